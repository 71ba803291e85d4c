/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-site-report-plot.c — small multiples of the site report, one panel per feature.
 *
 * Each panel shows the feature's values (one dot per series, jittered sideways
 * deterministically, the site median as a bar) for every site, the cohort as acquired on the
 * left and after harmonization on the right, each half on its own scale (harmonization
 * changes the unit). The panel title gives Kruskal–Wallis H with its p-value and the share of
 * variance explained by site before → after, in green when the site effect went away, in red
 * when it did not, in grey when the sites did not differ to begin with: a curator sees at a
 * glance which features still carry the site.
 */
#include "config.h"

#include <cairo-svg.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-site-report-plot.h"

#define PANEL_W 300
#define PANEL_H 190
#define COLUMNS 4
#define HEADER 56

static const double site_colours[][3] = {
  { 0.12, 0.47, 0.71 }, { 1.00, 0.50, 0.05 }, { 0.17, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
};

void
cu_site_report_plot_size (const CuSiteReport *r, int *width, int *height)
{
  guint n = r->features->len, rows = (n + COLUMNS - 1) / COLUMNS;

  *width = COLUMNS * PANEL_W;
  *height = HEADER + rows * PANEL_H;
}

static int
site_of_row (const CuSiteReport *r, const CuSiteReportRow *row)
{
  for (guint i = 0; i < r->sites->len; i++)
    if (strcmp (r->sites->pdata[i], row->site) == 0)
      return (int) i;
  return 0;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* One half of a panel: the values of rows for feature f at x0…x0+w, y0…y0+h. */
static void
draw_half (cairo_t *cr, const CuSiteReport *r, GPtrArray *rows, guint f, double x0, double y0,
           double w, double h, const char *label)
{
  double lo = INFINITY, hi = -INFINITY;
  guint k = r->sites->len;
  char text[64];

  cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
  cairo_set_font_size (cr, 10);
  cairo_move_to (cr, x0 + 2, y0 + h + 12);
  cairo_show_text (cr, label);
  for (guint i = 0; i < rows->len; i++)
    {
      double v = ((CuSiteReportRow *) rows->pdata[i])->values[f];
      if (isfinite (v))
        {
          lo = MIN (lo, v);
          hi = MAX (hi, v);
        }
    }
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x0 + 0.5, y0 + 0.5, w - 1, h - 1);
  cairo_stroke (cr);
  if (!isfinite (lo))
    {
      cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
      cairo_move_to (cr, x0 + 8, y0 + h / 2);
      cairo_show_text (cr, rows->len == 0 ? _("not harmonized") : _("no values"));
      return;
    }
  if (hi - lo < 1e-12 * MAX (1.0, fabs (hi)))
    {
      lo -= 0.5;
      hi += 0.5;
    }
  /* the scale's ends */
  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_set_font_size (cr, 9);
  g_snprintf (text, sizeof text, "%.3g", hi);
  cairo_move_to (cr, x0 + 2, y0 + 9);
  cairo_show_text (cr, text);
  g_snprintf (text, sizeof text, "%.3g", lo);
  cairo_move_to (cr, x0 + 2, y0 + h - 3);
  cairo_show_text (cr, text);
  for (guint s = 0; s < k; s++)
    {
      double cx = x0 + w * (s + 0.5) / k, band = 0.6 * w / k;
      const double *c = site_colours[s % G_N_ELEMENTS (site_colours)];
      g_autofree double *vals = g_new (double, MAX (rows->len, 1));
      guint n = 0;

      for (guint i = 0; i < rows->len; i++)
        {
          CuSiteReportRow *row = rows->pdata[i];
          double v = row->values[f], y;
          if (site_of_row (r, row) != (int) s || !isfinite (v))
            continue;
          vals[n] = v;
          /* deterministic jitter: the golden-ratio sequence */
          y = y0 + h - 6 - (h - 12) * (v - lo) / (hi - lo);
          cairo_set_source_rgba (cr, c[0], c[1], c[2], 0.75);
          cairo_arc (cr, cx + band * (fmod (n * 0.618034, 1.0) - 0.5), y, 3, 0, 2 * G_PI);
          cairo_fill (cr);
          n++;
        }
      if (n > 0)
        {
          double med, y;
          qsort (vals, n, sizeof (double), compare_double);
          med = n % 2 ? vals[n / 2] : 0.5 * (vals[n / 2 - 1] + vals[n / 2]);
          y = y0 + h - 6 - (h - 12) * (med - lo) / (hi - lo);
          cairo_set_source_rgb (cr, c[0] * 0.6, c[1] * 0.6, c[2] * 0.6);
          cairo_set_line_width (cr, 2.5);
          cairo_move_to (cr, cx - band * 0.6, y);
          cairo_line_to (cr, cx + band * 0.6, y);
          cairo_stroke (cr);
        }
    }
}

void
cu_site_report_plot_draw (cairo_t *cr, const CuSiteReport *r, double width, double height)
{
  int nat_w, nat_h;
  char text[256];

  cu_site_report_plot_size (r, &nat_w, &nat_h);
  cairo_save (cr);
  cairo_scale (cr, width / nat_w, height / nat_h);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 15);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_move_to (cr, 10, 22);
  /* Translators: the title of the harmonization report: the sequence type and the method */
  g_snprintf (text, sizeof text, _("Site effect of %s series: as acquired (left) and after %s (right)"),
              r->sequence, r->method != NULL ? r->method : _("no harmonization"));
  cairo_show_text (cr, text);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  {
    double x = 10;
    for (guint s = 0; s < r->sites->len; s++)
      {
        const double *c = site_colours[s % G_N_ELEMENTS (site_colours)];
        cairo_text_extents_t ext;
        cairo_set_source_rgb (cr, c[0], c[1], c[2]);
        cairo_arc (cr, x + 4, 40, 4, 0, 2 * G_PI);
        cairo_fill (cr);
        cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
        cairo_move_to (cr, x + 12, 44);
        cairo_show_text (cr, r->sites->pdata[s]);
        cairo_text_extents (cr, r->sites->pdata[s], &ext);
        x += ext.x_advance + 28;
      }
    cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
    cairo_move_to (cr, x + 10, 44);
    cairo_show_text (cr, _("H: Kruskal–Wallis across sites; η²: share of variance explained by site"));
  }
  for (guint f = 0; f < r->features->len; f++)
    {
      CuSiteReportFeature *feat = r->features->pdata[f];
      double px = (f % COLUMNS) * PANEL_W, py = HEADER + (f / COLUMNS) * PANEL_H;
      gboolean harmonized = r->after->len > 0;
      gboolean reduced = cu_site_report_feature_reduced (feat);

      cairo_set_font_size (cr, 12);
      cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_move_to (cr, px + 8, py + 16);
      cairo_show_text (cr, feat->name);
      cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_font_size (cr, 10);
      if (harmonized)
        {
          /* grey: no site effect to remove; green: removed; red: still there */
          if (!(feat->p_before < 0.05))
            cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
          else if (reduced)
            cairo_set_source_rgb (cr, 0.1, 0.5, 0.1);
          else
            cairo_set_source_rgb (cr, 0.75, 0.1, 0.1);
          g_snprintf (text, sizeof text, "H %.1f (p %.2g) → %.1f (p %.2g)  η² %.2f → %.2f",
                      feat->h_before, feat->p_before, feat->h_after, feat->p_after,
                      feat->eta2_before, feat->eta2_after);
        }
      else
        {
          cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
          g_snprintf (text, sizeof text, "H %.1f (p %.2g)  η² %.2f", feat->h_before,
                      feat->p_before, feat->eta2_before);
        }
      cairo_move_to (cr, px + 8, py + 30);
      cairo_show_text (cr, text);
      draw_half (cr, r, r->before, f, px + 8, py + 38, (PANEL_W - 24) / 2.0, PANEL_H - 66,
                 _("acquired"));
      draw_half (cr, r, r->after, f, px + 16 + (PANEL_W - 24) / 2.0, py + 38,
                 (PANEL_W - 24) / 2.0, PANEL_H - 66, _("harmonized"));
    }
  cairo_restore (cr);
}

gboolean
cu_site_report_plot_write (const CuSiteReport *r, const char *svg_path, const char *png_path,
                           GError **error)
{
  int w, h;

  cu_site_report_plot_size (r, &w, &h);
  if (svg_path != NULL)
    {
      cairo_surface_t *s = cairo_svg_surface_create (svg_path, w, h);
      cairo_t *cr = cairo_create (s);
      cairo_status_t status;
      cu_site_report_plot_draw (cr, r, w, h);
      cairo_destroy (cr);
      cairo_surface_finish (s);
      status = cairo_surface_status (s);
      cairo_surface_destroy (s);
      if (status != CAIRO_STATUS_SUCCESS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", svg_path,
                       cairo_status_to_string (status));
          return FALSE;
        }
    }
  if (png_path != NULL)
    {
      cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
      cairo_t *cr = cairo_create (s);
      cairo_status_t status;
      cu_site_report_plot_draw (cr, r, w, h);
      cairo_destroy (cr);
      status = cairo_surface_write_to_png (s, png_path);
      cairo_surface_destroy (s);
      if (status != CAIRO_STATUS_SUCCESS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", png_path,
                       cairo_status_to_string (status));
          return FALSE;
        }
    }
  return TRUE;
}
