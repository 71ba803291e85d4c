/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-vtk-scene.cc — the VTK pipeline behind cu-vtk-scene.h; the only file of Curata that
 * includes VTK. Every entry point catches C++ exceptions and reports them as GError.
 *
 * Geometry: each vtkImageData is kept with origin 0 and the volume's spacing, and every prop
 * (volume, label surfaces, planes) carries one user matrix [D | origin] (cu-volume.h), so the
 * world is patient LPS. VTK 9.1's direction matrix on vtkImageData is not honoured by every
 * filter and mapper used here (flying edges, the fixed-point ray caster), the user matrix is.
 * A left-handed direction matrix (slices stacked against the normal) is made right-handed by
 * reversing k when copying the voxels: mirrored prop matrices invert surface winding and
 * lighting.
 *
 * Methods:
 *  - volume rendering: ray casting with front-to-back compositing (Levoy 1988, "Display of
 *    surfaces from volume data", IEEE CG&A 8(3):29–37, doi:10.1109/38.511). Full quality uses
 *    the GPU caster (vtkGPUVolumeRayCastMapper) on hardware GL and the multi-threaded CPU caster
 *    (vtkFixedPointVolumeRayCastMapper, with space leaping) on software GL, where the GPU one
 *    is about 13× slower (7 s against 0.5 s per 800 × 600 frame, bench/cu-bench-vtk.c); while
 *    the user drags, the CPU caster on a coarser image, unshaded;
 *  - label surfaces: discrete flying edges (Schroeder, Maynard, Geveci 2015, "Flying edges: a
 *    high-performance scalable isocontouring algorithm", IEEE LDAV, doi:10.1109/LDAV.2015.7348069)
 *    smoothed by a windowed-sinc filter (Taubin, Zhang, Golub 1996, "Optimal surface smoothing as
 *    filter design", ECCV, doi:10.1007/BFb0015535);
 *  - transfer-function presets: the CT-Bone, CT-Muscle and MR-Default presets of 3D Slicer's
 *    volume rendering module (presets.xml), the MR one rescaled to the volume's percentiles.
 */
#include "config.h"

#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

#include <glib/gi18n-lib.h>
#include <X11/Xlib.h>

#include <vtkActor.h>
#include <vtkAppendPolyData.h>
#include <vtkAutoInit.h>
#include <vtkCamera.h>
#include <vtkColorTransferFunction.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkFixedPointVolumeRayCastMapper.h>
#include <vtkFloatArray.h>
#include <vtkShortArray.h>
#include <vtkGPUVolumeRayCastMapper.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageMapper3D.h>
#include <vtkImageProperty.h>
#include <vtkLookupTable.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkOutputWindow.h>
#include <vtkPiecewiseFunction.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataNormals.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkUnsignedCharArray.h>
#include <vtkVolume.h>
#include <vtkVolumePicker.h>
#include <vtkVolumeProperty.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include "cu-vtk-scene.h"

/* Meson does not run vtk_module_autoinit: without these the OpenGL implementations of the
 * abstract render window and ray caster are never registered. */
VTK_MODULE_INIT (vtkRenderingOpenGL2);
VTK_MODULE_INIT (vtkRenderingVolumeOpenGL2);

G_DEFINE_QUARK (cu-vtk-scene-error-quark, cu_vtk_scene_error)

/* ---- VTK messages ------------------------------------------------------------------ */

/* VTK prints warnings and errors on its own; route them to GLib's log (debug level: GL
 * chatter is not the user's business) and keep the last error for the GError. */
namespace
{
GMutex last_error_lock;

class CuVtkOutput : public vtkOutputWindow
{
public:
  static CuVtkOutput *New ();
  vtkTypeMacro (CuVtkOutput, vtkOutputWindow);

  void DisplayText (const char *text) override
  {
    g_debug ("VTK: %s", text);
  }
  void DisplayErrorText (const char *text) override
  {
    g_mutex_lock (&last_error_lock);
    last_error = text != nullptr ? text : "";
    g_mutex_unlock (&last_error_lock);
    g_debug ("VTK error: %s", text);
  }
  void DisplayWarningText (const char *text) override { g_debug ("VTK warning: %s", text); }
  void DisplayGenericWarningText (const char *text) override { g_debug ("VTK: %s", text); }

  static std::string take_last_error ()
  {
    std::string s;
    g_mutex_lock (&last_error_lock);
    s.swap (last_error);
    g_mutex_unlock (&last_error_lock);
    return s;
  }

private:
  static std::string last_error;
};
std::string CuVtkOutput::last_error;
vtkStandardNewMacro (CuVtkOutput);

void
install_output_once ()
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      vtkNew<CuVtkOutput> out;
      vtkOutputWindow::SetInstance (out);
      g_once_init_leave (&done, 1);
    }
}

void
set_failed (GError **error, const char *what, const std::string &detail)
{
  std::string vtk = CuVtkOutput::take_last_error ();
  const std::string &why = !detail.empty () ? detail : vtk;
  g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_FAILED, "%s: %s", what,
               why.empty () ? _("unknown VTK failure") : why.c_str ());
}
} // namespace

/* ---- the scene --------------------------------------------------------------------- */

struct _CuVtkScene
{
  vtkSmartPointer<vtkRenderWindow> window;
  vtkSmartPointer<vtkRenderer> renderer;

  /* volume */
  CuVolume *geometry = nullptr;          /* as placed in the scene (k possibly reversed) */
  vtkSmartPointer<vtkImageData> image;
  vtkSmartPointer<vtkMatrix4x4> matrix;
  vtkSmartPointer<vtkVolume> volume;
  vtkSmartPointer<vtkGPUVolumeRayCastMapper> gpu_mapper;
  vtkSmartPointer<vtkFixedPointVolumeRayCastMapper> cpu_mapper;
  vtkSmartPointer<vtkVolumeProperty> property;
  vtkSmartPointer<vtkColorTransferFunction> colors;
  vtkSmartPointer<vtkPiecewiseFunction> opacity;
  gboolean is_ct = FALSE;
  double p_lo = 0, p_hi = 1;             /* intensity percentiles for MR default and MIP */
  double min_spacing = 1;
  CuVtkPreset preset = CU_VTK_PRESET_MR_DEFAULT;
  gboolean volume_visible = TRUE;

  /* label surfaces */
  vtkSmartPointer<vtkImageData> label_image;
  vtkSmartPointer<vtkMatrix4x4> label_matrix;
  vtkSmartPointer<vtkDiscreteFlyingEdges3D> contour;
  /* Layers after the first of a layered label map (frames 1…), one contour each, appended
   * to the first's surfaces before smoothing. */
  std::vector<vtkSmartPointer<vtkDiscreteFlyingEdges3D>> layer_contours;
  vtkSmartPointer<vtkAppendPolyData> layers;
  vtkSmartPointer<vtkWindowedSincPolyDataFilter> smoother;
  vtkSmartPointer<vtkPolyDataNormals> normals;
  vtkSmartPointer<vtkPolyDataMapper> surface_mapper;
  vtkSmartPointer<vtkActor> surface;
  vtkSmartPointer<vtkLookupTable> label_colors;

  /* MPR planes: index axis c of the volume is constant on plane c */
  vtkSmartPointer<vtkImageActor> planes[3];
  gboolean planes_visible = FALSE;

  double aspect = 1.0;                   /* of the last render, for panning */
  CuVtkMapper full_mapper = CU_VTK_MAPPER_AUTO;
  int software_gl = -1;                  /* unknown until the GL context exists */
  std::string gl_renderer;
};

#define CU_VTK_CATCH(error, msg, ret)                                                   \
  catch (const std::exception &e)                                                        \
    {                                                                                    \
      set_failed ((error), (msg), e.what ());                                             \
      return ret;                                                                        \
    }                                                                                    \
  catch (...)                                                                            \
    {                                                                                    \
      set_failed ((error), (msg), std::string ());                                        \
      return ret;                                                                        \
    }

/* A small qualitative palette for labels without a colour of their own (1-based). */
static const double default_palette[][3] = {
  { 0.90, 0.25, 0.20 }, { 0.30, 0.75, 0.35 }, { 0.25, 0.50, 0.90 }, { 0.95, 0.80, 0.20 },
  { 0.70, 0.35, 0.85 }, { 0.20, 0.80, 0.80 }, { 0.95, 0.55, 0.20 }, { 0.85, 0.45, 0.65 },
};

static const char *const preset_ids[CU_VTK_N_PRESETS] = {
  "ct-bone", "ct-soft-tissue", "mr-default", "mip",
};

const char *
cu_vtk_preset_to_string (CuVtkPreset preset)
{
  g_return_val_if_fail (preset >= 0 && preset < CU_VTK_N_PRESETS, NULL);
  return preset_ids[preset];
}

const char *
cu_vtk_preset_get_title (CuVtkPreset preset)
{
  switch (preset)
    {
    case CU_VTK_PRESET_CT_BONE: return _("CT Bone");
    case CU_VTK_PRESET_CT_SOFT_TISSUE: return _("CT Soft Tissue");
    case CU_VTK_PRESET_MR_DEFAULT: return _("MR Default");
    case CU_VTK_PRESET_MIP: return _("Maximum Intensity Projection");
    case CU_VTK_N_PRESETS:
    default: return NULL;
    }
}

gboolean
cu_vtk_preset_from_string (const char *id, CuVtkPreset *preset)
{
  for (int p = 0; id != NULL && p < CU_VTK_N_PRESETS; p++)
    if (g_str_equal (id, preset_ids[p]))
      {
        *preset = (CuVtkPreset) p;
        return TRUE;
      }
  return FALSE;
}

CuVtkPreset
cu_vtk_preset_default_for (const CuVolume *volume)
{
  if (volume != NULL && g_strcmp0 (volume->modality, "CT") == 0)
    return CU_VTK_PRESET_CT_SOFT_TISSUE;
  return CU_VTK_PRESET_MR_DEFAULT;
}

/* VTK's GLX render window aborts the process without an X display: test it first. */
static gboolean
display_available (GError **error)
{
  const char *name = g_getenv ("DISPLAY");
  Display *dpy;

  if (name == NULL || *name == '\0')
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_NO_DISPLAY,
                   _("3D rendering needs an X display (DISPLAY is not set); run under xvfb-run"));
      return FALSE;
    }
  dpy = XOpenDisplay (NULL);
  if (dpy == NULL)
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_NO_DISPLAY,
                   _("3D rendering needs an X display, and “%s” cannot be opened"), name);
      return FALSE;
    }
  XCloseDisplay (dpy);
  return TRUE;
}

CuVtkScene *
cu_vtk_scene_new (GError **error)
{
  CuVtkScene *self = nullptr;

  if (!display_available (error))
    return NULL;
  install_output_once ();
  try
    {
      self = new CuVtkScene ();
      self->renderer = vtkSmartPointer<vtkRenderer>::New ();
      /* Readback is RGBA: an alpha of 0 would make the background transparent. */
      self->renderer->SetBackground (0.08, 0.09, 0.12);
      self->renderer->SetBackground2 (0.22, 0.24, 0.30);
      self->renderer->GradientBackgroundOn ();
      self->renderer->SetBackgroundAlpha (1.0);
      self->window = vtkSmartPointer<vtkRenderWindow>::New ();
      self->window->SetOffScreenRendering (1);
      self->window->SetMultiSamples (0);
      self->window->AddRenderer (self->renderer);

      self->colors = vtkSmartPointer<vtkColorTransferFunction>::New ();
      self->opacity = vtkSmartPointer<vtkPiecewiseFunction>::New ();
      self->property = vtkSmartPointer<vtkVolumeProperty>::New ();
      self->property->SetColor (self->colors);
      self->property->SetScalarOpacity (self->opacity);
      self->property->SetInterpolationTypeToLinear ();
      self->gpu_mapper = vtkSmartPointer<vtkGPUVolumeRayCastMapper>::New ();
      self->gpu_mapper->SetAutoAdjustSampleDistances (0);
      self->cpu_mapper = vtkSmartPointer<vtkFixedPointVolumeRayCastMapper>::New ();
      self->cpu_mapper->SetAutoAdjustSampleDistances (0);
      self->cpu_mapper->SetImageSampleDistance (2.0);
      self->volume = vtkSmartPointer<vtkVolume>::New ();
      self->volume->SetProperty (self->property);
      self->volume->SetMapper (self->gpu_mapper);
      self->matrix = vtkSmartPointer<vtkMatrix4x4>::New ();
      self->volume->SetUserMatrix (self->matrix);

      self->label_colors = vtkSmartPointer<vtkLookupTable>::New ();
      self->label_colors->SetNumberOfTableValues (256);
      self->label_colors->SetTableRange (0, 255);
      for (int l = 0; l < 256; l++)
        {
          const double *c = default_palette[(l + G_N_ELEMENTS (default_palette) - 1)
                                            % G_N_ELEMENTS (default_palette)];
          self->label_colors->SetTableValue (l, c[0], c[1], c[2], l == 0 ? 0.0 : 1.0);
        }
      self->label_matrix = vtkSmartPointer<vtkMatrix4x4>::New ();

      for (int c = 0; c < 3; c++)
        {
          self->planes[c] = vtkSmartPointer<vtkImageActor>::New ();
          self->planes[c]->SetUserMatrix (self->matrix);
          self->planes[c]->GetProperty ()->SetInterpolationTypeToLinear ();
          self->planes[c]->VisibilityOff ();
        }
      return self;
    }
  catch (const std::exception &e)
    {
      delete self;
      set_failed (error, _("Could not create the 3D scene"), e.what ());
      return NULL;
    }
  catch (...)
    {
      delete self;
      set_failed (error, _("Could not create the 3D scene"), std::string ());
      return NULL;
    }
}

void
cu_vtk_scene_free (CuVtkScene *self)
{
  if (self == NULL)
    return;
  try
    {
      /* Release GL objects while the context still exists. */
      if (self->window != nullptr)
        self->window->Finalize ();
    }
  catch (...)
    {
    }
  g_clear_pointer (&self->geometry, cu_volume_unref);
  delete self;
}

/* TRUE when every voxel of the frame is a whole number within int16 (a CT in HU, most MR):
 * VTK then gets the scalars as the scanner stored them. The fixed-point ray caster maps
 * 16-bit integers straight to its tables, while float scalars make it rescale every sample
 * (and take twice the memory): the first frame of a 512² × 200 CT is markedly slower. */
static gboolean
frame_is_int16 (const float *v, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!(v[i] >= -32768.0f && v[i] <= 32767.0f) || v[i] != (float) (gint32) v[i])
      return FALSE;
  return TRUE;
}

template <typename T, typename A>
static void
fill_scalars (vtkImageData *image, const float *in, gsize slice, int nz, gboolean flip)
{
  vtkNew<A> scalars;
  scalars->SetNumberOfComponents (1);
  scalars->SetNumberOfTuples ((vtkIdType) slice * nz);
  T *out = scalars->GetPointer (0);
  for (int k = 0; k < nz; k++)
    {
      T *o = out + slice * (flip ? nz - 1 - k : k);
      const float *v = in + slice * k;
      if (std::is_same<T, float>::value)
        memcpy (o, v, slice * sizeof (float));
      else
        for (gsize i = 0; i < slice; i++)
          o[i] = (T) v[i];
    }
  image->GetPointData ()->SetScalars (scalars);
}

/* The volume's frame t copied into a vtkImageData at origin 0 (int16 scalars when the values
 * allow it and native is TRUE, else float), k reversed when the direction matrix is
 * left-handed; placed (geometry, matrix) so the world is LPS. */
static vtkSmartPointer<vtkImageData>
copy_to_image (const CuVolume *src, int t, CuVolume **placed, vtkMatrix4x4 *matrix,
               gboolean native = FALSE)
{
  const double *d = src->direction;
  double det = d[0] * (d[4] * d[8] - d[5] * d[7]) - d[1] * (d[3] * d[8] - d[5] * d[6])
               + d[2] * (d[3] * d[7] - d[4] * d[6]);
  gboolean flip = det < 0;
  int nx = src->dims[0], ny = src->dims[1], nz = src->dims[2];
  gsize slice = (gsize) nx * ny;
  const float *in = cu_volume_frame (src, t);
  CuVolume *g = cu_volume_copy (src, FALSE);
  auto image = vtkSmartPointer<vtkImageData>::New ();

  if (flip)
    {
      double last[3], ijk[3] = { 0, 0, (double) (nz - 1) };
      cu_volume_index_to_lps (src, ijk, last);
      for (int r = 0; r < 3; r++)
        {
          g->origin[r] = last[r];
          g->direction[r * 3 + 2] = -d[r * 3 + 2];
        }
    }
  g->dims[3] = 1;

  image->SetDimensions (nx, ny, nz);
  image->SetSpacing (src->spacing[0], src->spacing[1], src->spacing[2]);
  image->SetOrigin (0, 0, 0);
  if (native && frame_is_int16 (in, slice * nz))
    fill_scalars<short, vtkShortArray> (image, in, slice, nz, flip);
  else
    fill_scalars<float, vtkFloatArray> (image, in, slice, nz, flip);

  matrix->Identity ();
  for (int r = 0; r < 3; r++)
    {
      for (int c = 0; c < 3; c++)
        matrix->SetElement (r, c, g->direction[r * 3 + c]);
      matrix->SetElement (r, 3, g->origin[r]);
    }
  *placed = g;
  return image;
}

static void
apply_preset (CuVtkScene *self)
{
  vtkColorTransferFunction *ctf = self->colors;
  vtkPiecewiseFunction *otf = self->opacity;
  double lo = self->p_lo, hi = MAX (self->p_hi, self->p_lo + 1e-3);

  ctf->RemoveAllPoints ();
  otf->RemoveAllPoints ();
  self->property->SetAmbient (0.2);
  self->property->SetDiffuse (0.9);
  self->property->SetSpecular (0.2);
  self->property->SetSpecularPower (10);
  self->gpu_mapper->SetBlendModeToComposite ();
  self->cpu_mapper->SetBlendModeToComposite ();
  self->property->ShadeOn ();

  switch (self->preset)
    {
    case CU_VTK_PRESET_CT_BONE:
      otf->AddPoint (-3024, 0);
      otf->AddPoint (-16.4458, 0);
      otf->AddPoint (641.385, 0.715686);
      otf->AddPoint (3071, 0.705882);
      ctf->AddRGBPoint (-3024, 0, 0, 0);
      ctf->AddRGBPoint (-16.4458, 0.729412, 0.254902, 0.301961);
      ctf->AddRGBPoint (641.385, 0.905882, 0.815686, 0.552941);
      ctf->AddRGBPoint (3071, 1, 1, 1);
      break;
    case CU_VTK_PRESET_CT_SOFT_TISSUE:
      otf->AddPoint (-3024, 0);
      otf->AddPoint (-155.407, 0);
      otf->AddPoint (217.641, 0.676471);
      otf->AddPoint (419.736, 0.833333);
      otf->AddPoint (3071, 0.803922);
      ctf->AddRGBPoint (-3024, 0, 0, 0);
      ctf->AddRGBPoint (-155.407, 0.54902, 0.25098, 0.14902);
      ctf->AddRGBPoint (217.641, 0.882353, 0.603922, 0.290196);
      ctf->AddRGBPoint (419.736, 1, 0.937033, 0.954531);
      ctf->AddRGBPoint (3071, 0.827451, 0.658824, 1);
      break;
    case CU_VTK_PRESET_MR_DEFAULT:
      {
        /* Slicer's MR-Default breakpoints (0, 20, 40, 120, 220, 1024 on a typical 0–255 MR
         * scale) placed between the 1st and 99.5th percentile of this volume. */
        auto at = [lo, hi] (double x) { return lo + (hi - lo) * x / 255.0; };
        otf->AddPoint (at (0), 0);
        otf->AddPoint (at (20), 0);
        otf->AddPoint (at (40), 0.15);
        otf->AddPoint (at (120), 0.3);
        otf->AddPoint (at (220), 0.375);
        otf->AddPoint (at (1024), 0.5);
        ctf->AddRGBPoint (at (0), 0, 0, 0);
        ctf->AddRGBPoint (at (20), 0.168627, 0, 0);
        ctf->AddRGBPoint (at (40), 0.403922, 0.145098, 0.0784314);
        ctf->AddRGBPoint (at (120), 0.780392, 0.607843, 0.380392);
        ctf->AddRGBPoint (at (220), 0.847059, 0.835294, 0.788235);
        ctf->AddRGBPoint (at (1024), 1, 1, 1);
      }
      break;
    case CU_VTK_PRESET_MIP:
    case CU_VTK_N_PRESETS:
    default:
      otf->AddPoint (lo, 0);
      otf->AddPoint (hi, 1);
      ctf->AddRGBPoint (lo, 0, 0, 0);
      ctf->AddRGBPoint (hi, 1, 1, 1);
      self->gpu_mapper->SetBlendModeToMaximumIntensity ();
      self->cpu_mapper->SetBlendModeToMaximumIntensity ();
      self->property->ShadeOff ();
      break;
    }
}

static void
update_volume_prop (CuVtkScene *self)
{
  gboolean show = self->image != nullptr && self->volume_visible;

  if (show && !self->renderer->HasViewProp (self->volume))
    self->renderer->AddVolume (self->volume);
  else if (!show && self->renderer->HasViewProp (self->volume))
    self->renderer->RemoveVolume (self->volume);
}

gboolean
cu_vtk_scene_set_volume (CuVtkScene *self, const CuVolume *volume, int time, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (volume != NULL && (volume->voxels == NULL || volume->dims[0] < 1 || volume->dims[1] < 1
                         || volume->dims[2] < 1 || time < 0 || time >= volume->dims[3]))
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                   _("The volume has no voxels to render, or no volume %d"), time + 1);
      return FALSE;
    }
  try
    {
      gboolean same_extent = FALSE;

      if (volume == NULL)
        {
          self->image = nullptr;
          g_clear_pointer (&self->geometry, cu_volume_unref);
          self->gpu_mapper->RemoveAllInputs ();
          self->cpu_mapper->RemoveAllInputs ();
          for (int c = 0; c < 3; c++)
            self->renderer->RemoveViewProp (self->planes[c]);
          update_volume_prop (self);
          return TRUE;
        }

      CuVolume *placed = nullptr;
      auto image = copy_to_image (volume, time, &placed, self->matrix, TRUE);
      if (self->geometry != nullptr)
        {
          same_extent = TRUE;
          for (int c = 0; c < 3; c++)
            same_extent = same_extent && self->geometry->dims[c] == placed->dims[c]
                          && self->geometry->origin[c] == placed->origin[c]
                          && self->geometry->spacing[c] == placed->spacing[c];
        }
      g_clear_pointer (&self->geometry, cu_volume_unref);
      self->geometry = placed;
      self->image = image;
      self->matrix->Modified ();
      self->gpu_mapper->SetInputData (image);
      self->cpu_mapper->SetInputData (image);
      for (int c = 0; c < 3; c++)
        {
          self->planes[c]->SetInputData (image);
          if (!self->renderer->HasViewProp (self->planes[c]))
            self->renderer->AddViewProp (self->planes[c]);
        }

      self->is_ct = g_strcmp0 (volume->modality, "CT") == 0;
      self->p_lo = cu_volume_percentile (volume, time, 1.0);
      self->p_hi = cu_volume_percentile (volume, time, 99.5);
      self->min_spacing = MIN (MIN (volume->spacing[0], volume->spacing[1]), volume->spacing[2]);
      if (!(self->min_spacing > 0))
        self->min_spacing = 1;
      /* One sample per voxel along the ray at full quality (the CPU caster's is set per
       * render: half as many while dragging). */
      self->gpu_mapper->SetSampleDistance ((float) self->min_spacing);
      apply_preset (self);
      update_volume_prop (self);
      if (!same_extent)
        cu_vtk_scene_reset_camera (self, CU_VTK_VIEW_ANTERIOR);
      return TRUE;
    }
  CU_VTK_CATCH (error, _("Could not set the volume of the 3D scene"), FALSE)
}

/* Opaque slice planes through a lesion hide its surface, and the surfaces are what a reader
 * turns to the 3D view for: with label surfaces present the planes are drawn translucent. */
#define PLANE_OPACITY_OVER_LABELS 0.3

static void
update_plane_opacity (CuVtkScene *self)
{
  double opacity = self->label_image != nullptr ? PLANE_OPACITY_OVER_LABELS : 1.0;

  for (int c = 0; c < 3; c++)
    if (self->planes[c] != nullptr)
      self->planes[c]->SetOpacity (opacity);
}

double
cu_vtk_scene_get_plane_opacity (CuVtkScene *self)
{
  g_return_val_if_fail (self != NULL, 1.0);
  return self->planes[0] != nullptr ? self->planes[0]->GetOpacity () : 1.0;
}

gboolean
cu_vtk_scene_set_label_map (CuVtkScene *self, const CuVolume *labels, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (labels != NULL && (labels->voxels == NULL || labels->dims[0] < 2 || labels->dims[1] < 2
                         || labels->dims[2] < 2))
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                   _("A label map needs voxels and at least 2 × 2 × 2 of them"));
      return FALSE;
    }
  try
    {
      if (labels == NULL)
        {
          if (self->surface != nullptr)
            self->renderer->RemoveActor (self->surface);
          self->label_image = nullptr;
          update_plane_opacity (self);
          return TRUE;
        }

      CuVolume *placed = nullptr;
      auto image = copy_to_image (labels, 0, &placed, self->label_matrix);
      gboolean present[256] = { FALSE };
      gsize n = cu_volume_n_voxels_3d (labels);
      const float *v = labels->voxels;
      int n_values = 0;

      cu_volume_unref (placed);
      for (gsize i = 0; i < n; i++)
        {
          int l = (int) lrintf (v[i]);
          if (l > 0 && l < 256)
            present[l] = TRUE;
        }
      if (self->contour == nullptr)
        {
          self->contour = vtkSmartPointer<vtkDiscreteFlyingEdges3D>::New ();
          self->contour->ComputeScalarsOn ();
          self->contour->ComputeNormalsOff ();
          self->contour->ComputeGradientsOff ();
          self->layers = vtkSmartPointer<vtkAppendPolyData>::New ();
          self->smoother = vtkSmartPointer<vtkWindowedSincPolyDataFilter>::New ();
          self->smoother->SetInputConnection (self->layers->GetOutputPort ());
          /* 3D Slicer's label-surface smoothing at its default factor 0.5 (pass band
           * 10^(-4·0.5), 20 + 40·0.5 iterations): removes the voxel staircase, including
           * that of thick slices, while keeping the surface near the boundary. */
          self->smoother->SetNumberOfIterations (40);
          self->smoother->SetPassBand (0.01);
          self->smoother->NormalizeCoordinatesOn ();
          self->smoother->BoundarySmoothingOff ();
          self->smoother->FeatureEdgeSmoothingOff ();
          self->smoother->NonManifoldSmoothingOn ();
          self->normals = vtkSmartPointer<vtkPolyDataNormals>::New ();
          self->normals->SetInputConnection (self->smoother->GetOutputPort ());
          self->normals->SplittingOff ();
          self->normals->ConsistencyOn ();
          self->surface_mapper = vtkSmartPointer<vtkPolyDataMapper>::New ();
          self->surface_mapper->SetInputConnection (self->normals->GetOutputPort ());
          self->surface_mapper->SetLookupTable (self->label_colors);
          self->surface_mapper->SetScalarRange (0, 255);
          self->surface_mapper->UseLookupTableScalarRangeOn ();
          self->surface_mapper->SetScalarModeToUsePointData ();
          self->surface_mapper->SetColorModeToMapScalars ();
          self->surface = vtkSmartPointer<vtkActor>::New ();
          self->surface->SetMapper (self->surface_mapper);
          self->surface->SetUserMatrix (self->label_matrix);
          self->surface->GetProperty ()->SetSpecular (0.3);
          self->surface->GetProperty ()->SetSpecularPower (20);
        }
      self->contour->SetNumberOfContours (0);
      for (int l = 1; l < 256; l++)
        if (present[l])
          self->contour->SetValue (n_values++, l);
      self->label_image = image;
      self->label_matrix->Modified ();
      self->contour->SetInputData (image);
      /* A layered map comes as one frame per layer: each layer's labels get their own
       * surfaces, so a lesion inside the gland is a surface of its own inside the gland's. */
      self->layers->RemoveAllInputs ();
      self->layers->AddInputConnection (self->contour->GetOutputPort ());
      self->layer_contours.clear ();
      for (int t = 1; t < labels->dims[3]; t++)
        {
          gboolean here[256] = { FALSE };
          const float *f = labels->voxels + (gsize) t * n;
          auto layer_contour = vtkSmartPointer<vtkDiscreteFlyingEdges3D>::New ();
          int n_here = 0;

          for (gsize i = 0; i < n; i++)
            {
              int l = (int) lrintf (f[i]);
              if (l > 0 && l < 256)
                here[l] = TRUE;
            }
          for (int l = 1; l < 256; l++)
            if (here[l])
              layer_contour->SetValue (n_here++, l);
          if (n_here == 0)
            continue;
          layer_contour->ComputeScalarsOn ();
          layer_contour->ComputeNormalsOff ();
          layer_contour->ComputeGradientsOff ();
          layer_contour->SetInputData (copy_to_image (labels, t, &placed, self->label_matrix));
          cu_volume_unref (placed);
          self->layers->AddInputConnection (layer_contour->GetOutputPort ());
          self->layer_contours.push_back (layer_contour);
        }
      self->normals->Update ();
      if (!self->renderer->HasViewProp (self->surface))
        self->renderer->AddActor (self->surface);
      update_plane_opacity (self);
      if (self->image == nullptr)
        cu_vtk_scene_reset_camera (self, CU_VTK_VIEW_ANTERIOR);
      return TRUE;
    }
  CU_VTK_CATCH (error, _("Could not build the label surfaces"), FALSE)
}

void
cu_vtk_scene_set_label_color (CuVtkScene *self, int label, const double rgba[4])
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (label > 0 && label < 256);
  try
    {
      self->label_colors->SetTableValue (label, rgba[0], rgba[1], rgba[2], rgba[3]);
      self->label_colors->Modified ();
    }
  catch (...)
    {
      g_debug ("cu_vtk_scene_set_label_color: VTK failed");
    }
}

gsize
cu_vtk_scene_get_label_n_triangles (CuVtkScene *self)
{
  g_return_val_if_fail (self != NULL, 0);
  if (self->label_image == nullptr || self->normals == nullptr)
    return 0;
  try
    {
      self->normals->Update ();
      return (gsize) self->normals->GetOutput ()->GetNumberOfPolys ();
    }
  catch (...)
    {
      return 0;
    }
}

void
cu_vtk_scene_set_preset (CuVtkScene *self, CuVtkPreset preset)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (preset >= 0 && preset < CU_VTK_N_PRESETS);
  self->preset = preset;
  try
    {
      apply_preset (self);
    }
  catch (...)
    {
      g_debug ("cu_vtk_scene_set_preset: VTK failed");
    }
}

CuVtkPreset
cu_vtk_scene_get_preset (CuVtkScene *self)
{
  g_return_val_if_fail (self != NULL, CU_VTK_PRESET_MR_DEFAULT);
  return self->preset;
}

void
cu_vtk_scene_set_volume_visible (CuVtkScene *self, gboolean visible)
{
  g_return_if_fail (self != NULL);
  self->volume_visible = visible;
  try
    {
      update_volume_prop (self);
    }
  catch (...)
    {
    }
}

void
cu_vtk_scene_set_planes (CuVtkScene *self, gboolean visible, const double cursor_lps[3],
                         double window, double level)
{
  g_return_if_fail (self != NULL);
  self->planes_visible = visible;
  try
    {
      if (self->geometry == nullptr)
        return;
      double ijk[3] = { 0, 0, 0 };
      int e[6];

      if (cursor_lps != NULL)
        cu_volume_lps_to_index (self->geometry, cursor_lps, ijk);
      for (int c = 0; c < 3; c++)
        {
          int idx = std::isfinite (ijk[c]) ? (int) lrint (ijk[c]) : 0;
          vtkImageActor *a = self->planes[c];

          idx = CLAMP (idx, 0, self->geometry->dims[c] - 1);
          for (int a2 = 0; a2 < 3; a2++)
            {
              e[2 * a2] = a2 == c ? idx : 0;
              e[2 * a2 + 1] = a2 == c ? idx : self->geometry->dims[a2] - 1;
            }
          a->SetDisplayExtent (e);
          a->GetProperty ()->SetColorWindow (MAX (window, 1e-6));
          a->GetProperty ()->SetColorLevel (level);
          /* A volume with a single slice along c has no plane c to show in 3D. */
          a->SetVisibility (visible && self->geometry->dims[(c + 1) % 3] > 1
                            && self->geometry->dims[(c + 2) % 3] > 1);
        }
    }
  catch (...)
    {
      g_debug ("cu_vtk_scene_set_planes: VTK failed");
    }
}

/* ---- camera ----------------------------------------------------------------------- */

static gboolean
scene_bounds (CuVtkScene *self, double b[6])
{
  double *vb = nullptr;

  if (self->image != nullptr)
    vb = self->volume->GetBounds ();   /* world (LPS) bounds through the user matrix */
  else if (self->label_image != nullptr && self->surface != nullptr)
    vb = self->surface->GetBounds ();
  if (vb == nullptr || vb[0] > vb[1])
    return FALSE;
  memcpy (b, vb, 6 * sizeof (double));
  return TRUE;
}

void
cu_vtk_scene_reset_camera (CuVtkScene *self, CuVtkView view)
{
  g_return_if_fail (self != NULL);
  try
    {
      vtkCamera *cam = self->renderer->GetActiveCamera ();
      double b[6], c[3];

      if (!scene_bounds (self, b))
        return;
      for (int r = 0; r < 3; r++)
        c[r] = (b[2 * r] + b[2 * r + 1]) / 2;
      cam->SetFocalPoint (c);
      switch (view)
        {
        case CU_VTK_VIEW_LEFT:      /* from the patient's left (+x), head up */
          cam->SetPosition (c[0] + 1, c[1], c[2]);
          cam->SetViewUp (0, 0, 1);
          break;
        case CU_VTK_VIEW_SUPERIOR:  /* from above (+z), anterior (−y) at the top */
          cam->SetPosition (c[0], c[1], c[2] + 1);
          cam->SetViewUp (0, -1, 0);
          break;
        case CU_VTK_VIEW_ANTERIOR:  /* from the front (−y), head up: the patient's right on
                                     * the viewer's left, as in the coronal slice view */
        default:
          cam->SetPosition (c[0], c[1] - 1, c[2]);
          cam->SetViewUp (0, 0, 1);
          break;
        }
      cam->SetViewAngle (30);
      self->renderer->ResetCamera (b);
    }
  catch (...)
    {
      g_debug ("cu_vtk_scene_reset_camera: VTK failed");
    }
}

void
cu_vtk_scene_rotate (CuVtkScene *self, double azimuth, double elevation)
{
  g_return_if_fail (self != NULL);
  try
    {
      vtkCamera *cam = self->renderer->GetActiveCamera ();
      cam->Azimuth (azimuth);
      cam->Elevation (elevation);
      cam->OrthogonalizeViewUp ();
    }
  catch (...)
    {
    }
}

void
cu_vtk_scene_zoom (CuVtkScene *self, double factor)
{
  g_return_if_fail (self != NULL);
  if (!(factor > 0))
    return;
  try
    {
      self->renderer->GetActiveCamera ()->Dolly (factor);
    }
  catch (...)
    {
    }
}

void
cu_vtk_scene_pan (CuVtkScene *self, double dx, double dy)
{
  g_return_if_fail (self != NULL);
  try
    {
      vtkCamera *cam = self->renderer->GetActiveCamera ();
      double fp[3], pos[3], up[3], dir[3], right[3];
      double dist = cam->GetDistance ();
      double h = 2 * dist * tan (cam->GetViewAngle () * G_PI / 360.0);
      double w = h * self->aspect;

      cam->GetFocalPoint (fp);
      cam->GetPosition (pos);
      cam->GetViewUp (up);
      for (int r = 0; r < 3; r++)
        dir[r] = (fp[r] - pos[r]) / dist;
      right[0] = dir[1] * up[2] - dir[2] * up[1];
      right[1] = dir[2] * up[0] - dir[0] * up[2];
      right[2] = dir[0] * up[1] - dir[1] * up[0];
      /* Moving the scene right = moving the camera left. */
      for (int r = 0; r < 3; r++)
        {
          double m = -dx * w * right[r] + dy * h * up[r];
          fp[r] += m;
          pos[r] += m;
        }
      cam->SetFocalPoint (fp);
      cam->SetPosition (pos);
    }
  catch (...)
    {
    }
}

void
cu_vtk_scene_get_screen_axes (CuVtkScene *self, double axes[3][2])
{
  g_return_if_fail (self != NULL);
  memset (axes, 0, 6 * sizeof (double));
  try
    {
      vtkCamera *cam = self->renderer->GetActiveCamera ();
      double up[3], dir[3], right[3];

      cam->GetViewUp (up);
      cam->GetDirectionOfProjection (dir);
      right[0] = dir[1] * up[2] - dir[2] * up[1];
      right[1] = dir[2] * up[0] - dir[0] * up[2];
      right[2] = dir[0] * up[1] - dir[1] * up[0];
      for (int a = 0; a < 3; a++)
        {
          axes[a][0] = right[a];
          axes[a][1] = -up[a];
        }
    }
  catch (...)
    {
    }
}

/* ---- rendering and picking ---------------------------------------------------------- */

/* Which GL driver VTK got: makes the context (as the first render would) and reads its
 * renderer string. */
static void
detect_gl (CuVtkScene *self)
{
  const char *caps;
  std::string s;

  self->window->Start ();   /* creates the context, as the first render would */
  caps = self->window->ReportCapabilities ();
  s = caps != nullptr ? caps : "";
  self->software_gl = 0;
  {
    const std::string key = "OpenGL renderer string:";
    size_t at = s.find (key);
    if (at != std::string::npos)
      {
        size_t end = s.find ('\n', at);
        self->gl_renderer = s.substr (at + key.size (), end == std::string::npos ? std::string::npos
                                                                                   : end - at - key.size ());
        self->gl_renderer.erase (0, self->gl_renderer.find_first_not_of (' '));
      }
  }
  for (const char *soft : { "llvmpipe", "softpipe", "Software Rasterizer", "SWR" })
    if (s.find (soft) != std::string::npos)
      self->software_gl = 1;
  g_debug ("VTK GL renderer: %s (%s)", self->gl_renderer.c_str (),
           self->software_gl ? "software" : "hardware");
}

void
cu_vtk_scene_set_full_quality_mapper (CuVtkScene *self, CuVtkMapper mapper)
{
  g_return_if_fail (self != NULL);
  self->full_mapper = mapper;
}

const char *
cu_vtk_scene_get_gl_renderer (CuVtkScene *self, gboolean *software)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (software != NULL)
    *software = self->software_gl == 1;
  return self->software_gl < 0 ? NULL : self->gl_renderer.c_str ();
}

gboolean
cu_vtk_scene_render (CuVtkScene *self, int width, int height, CuVtkQuality quality,
                     guint8 *rgba, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (rgba != NULL, FALSE);

  if (width < 1 || height < 1 || width > 16384 || height > 16384)
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                   _("Cannot render an image of %d × %d pixels"), width, height);
      return FALSE;
    }
  try
    {
      vtkNew<vtkUnsignedCharArray> pixels;
      gsize stride = (gsize) width * 4;
      const unsigned char *src;
      gboolean interactive = quality == CU_VTK_QUALITY_INTERACTIVE;

      self->aspect = (double) width / height;
      self->window->SetSize (width, height);
      if (self->software_gl < 0)
        detect_gl (self);
      if (self->image != nullptr)
        {
          gboolean cpu = interactive || self->full_mapper == CU_VTK_MAPPER_CPU
                         || (self->full_mapper == CU_VTK_MAPPER_AUTO && self->software_gl == 1);
          vtkVolumeMapper *want = cpu ? (vtkVolumeMapper *) self->cpu_mapper
                                      : (vtkVolumeMapper *) self->gpu_mapper;
          if (self->volume->GetMapper () != want)
            self->volume->SetMapper (want);
          /* Interactive: a ray per 2 × 2 pixels and a sample per 2 voxels; full: one each. */
          self->cpu_mapper->SetImageSampleDistance (interactive ? 2.0f : 1.0f);
          self->cpu_mapper->SetSampleDistance ((float) ((interactive ? 2 : 1) * self->min_spacing));
          /* Shading doubles the cost of every sample: only at full quality. */
          self->property->SetShade (!interactive && self->preset != CU_VTK_PRESET_MIP);
        }
      self->renderer->ResetCameraClippingRange ();
      CuVtkOutput::take_last_error ();
      self->window->Render ();
      if (self->window->GetRGBACharPixelData (0, 0, width - 1, height - 1, 0, pixels) != VTK_OK
          || pixels->GetNumberOfTuples () < (vtkIdType) width * height)
        {
          set_failed (error, _("Could not read the 3D image back"), std::string ());
          self->window->ReleaseCurrent ();
          return FALSE;
        }
      self->window->ReleaseCurrent ();
      /* GL rows run bottom-up; the caller wants top-down and opaque. */
      src = pixels->GetPointer (0);
      for (int y = 0; y < height; y++)
        {
          guint8 *row = rgba + stride * y;
          memcpy (row, src + stride * (height - 1 - y), stride);
          for (int x = 0; x < width; x++)
            row[4 * x + 3] = 255;
        }
      return TRUE;
    }
  CU_VTK_CATCH (error, _("Could not render the 3D view"), FALSE)
}

gboolean
cu_vtk_scene_pick (CuVtkScene *self, int width, int height, double x, double y, double lps[3],
                   GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (width < 1 || height < 1)
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                   _("Cannot pick in an image of %d × %d pixels"), width, height);
      return FALSE;
    }
  try
    {
      vtkNew<vtkVolumePicker> picker;

      self->aspect = (double) width / height;
      self->window->SetSize (width, height);
      self->renderer->ResetCameraClippingRange ();
      picker->SetTolerance (1e-6);
      /* A voxel is "there" where the preset makes it visibly opaque. */
      picker->SetVolumeOpacityIsovalue (0.1);
      picker->PickFromListOff ();
      /* Display coordinates have y up; both put pixel centres at +0.5. */
      if (!picker->Pick (x, height - y, 0, self->renderer)
          || picker->GetProp3D () == nullptr)
        {
          g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_NOT_FOUND,
                       _("Nothing is drawn at this point of the 3D view"));
          return FALSE;
        }
      picker->GetPickPosition (lps);
      return TRUE;
    }
  CU_VTK_CATCH (error, _("Could not pick in the 3D view"), FALSE)
}

void
cu_vtk_scene_project (CuVtkScene *self, int width, int height, const double lps[3], double *x,
                      double *y)
{
  g_return_if_fail (self != NULL);
  *x = *y = NAN;
  if (width < 1 || height < 1)
    return;
  try
    {
      double d[3];
      self->aspect = (double) width / height;
      self->window->SetSize (width, height);
      self->renderer->SetWorldPoint (lps[0], lps[1], lps[2], 1.0);
      self->renderer->WorldToDisplay ();
      self->renderer->GetDisplayPoint (d);
      *x = d[0];
      *y = height - d[1];
    }
  catch (...)
    {
    }
}
