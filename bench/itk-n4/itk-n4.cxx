// SPDX-License-Identifier: GPL-3.0-or-later
// itk-n4.cxx — the reference side of bench/bench-n4.py: ITK's N4 on the same files and with the
// same schedule as Curata's.
//
//   itk-n4 IMAGE.nii MASK.nii FIELD_OUT.nii SHRINK LEVELS ITERATIONS CONVERGENCE
//
// The image and mask are shrunk by SHRINK (itk::ShrinkImageFilter, the way ANTs and Slicer's
// N4ITK do), N4 runs with 4 control points, spline order 3, 200 bins, FWHM 0.15, Wiener noise
// 0.01 (ITK's defaults, as Curata's), and the field is rebuilt at full resolution from N4's
// control-point lattice (itk::BSplineControlPointImageFilter) and written as exp(log field).
#include <cstdlib>
#include <iostream>

#include "itkBSplineControlPointImageFilter.h"
#include "itkExpImageFilter.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkN4BiasFieldCorrectionImageFilter.h"
#include "itkShrinkImageFilter.h"
#include "itkVectorIndexSelectionCastImageFilter.h"

int
main (int argc, char **argv)
{
  if (argc != 8)
    {
      std::cerr << "usage: itk-n4 IMAGE MASK FIELD_OUT SHRINK LEVELS ITERATIONS CONVERGENCE\n";
      return 1;
    }
  using Image = itk::Image<float, 3>;
  using Mask = itk::Image<unsigned char, 3>;
  try
    {
      auto image = itk::ReadImage<Image> (argv[1]);
      auto mask = itk::ReadImage<Mask> (argv[2]);
      const unsigned shrink = std::atoi (argv[4]);
      const unsigned levels = std::atoi (argv[5]);
      const unsigned iterations = std::atoi (argv[6]);
      const double convergence = std::atof (argv[7]);

      auto shrinker = itk::ShrinkImageFilter<Image, Image>::New ();
      shrinker->SetInput (image);
      shrinker->SetShrinkFactors (shrink);
      auto mask_shrinker = itk::ShrinkImageFilter<Mask, Mask>::New ();
      mask_shrinker->SetInput (mask);
      mask_shrinker->SetShrinkFactors (shrink);

      using N4 = itk::N4BiasFieldCorrectionImageFilter<Image, Mask, Image>;
      auto n4 = N4::New ();
      n4->SetInput (shrinker->GetOutput ());
      n4->SetMaskImage (mask_shrinker->GetOutput ());
      N4::VariableSizeArrayType its (levels);
      its.Fill (iterations);
      n4->SetMaximumNumberOfIterations (its);
      n4->SetNumberOfFittingLevels (levels);
      n4->SetConvergenceThreshold (convergence);
      N4::ArrayType cps;
      cps.Fill (4);
      n4->SetNumberOfControlPoints (cps);
      n4->SetSplineOrder (3);
      n4->SetNumberOfHistogramBins (200);
      n4->SetBiasFieldFullWidthAtHalfMaximum (0.15);
      n4->SetWienerFilterNoise (0.01);
      n4->Update ();

      using Lattice = N4::BiasFieldControlPointLatticeType;
      using Rebuild = itk::BSplineControlPointImageFilter<Lattice, N4::ScalarImageType>;
      auto rebuild = Rebuild::New ();
      rebuild->SetInput (n4->GetLogBiasFieldControlPointLattice ());
      rebuild->SetSplineOrder (3);
      rebuild->SetSize (image->GetLargestPossibleRegion ().GetSize ());
      rebuild->SetOrigin (image->GetOrigin ());
      rebuild->SetSpacing (image->GetSpacing ());
      rebuild->SetDirection (image->GetDirection ());
      rebuild->Update ();

      auto select = itk::VectorIndexSelectionCastImageFilter<N4::ScalarImageType, Image>::New ();
      select->SetInput (rebuild->GetOutput ());
      select->SetIndex (0);
      auto expf = itk::ExpImageFilter<Image, Image>::New ();
      expf->SetInput (select->GetOutput ());
      itk::WriteImage (expf->GetOutput (), argv[3]);
      std::cout << "{\"iterations_last_level\": " << n4->GetElapsedIterations ()
                << ", \"convergence\": " << n4->GetCurrentConvergenceMeasurement () << "}\n";
    }
  catch (const itk::ExceptionObject &e)
    {
      std::cerr << "itk-n4: " << e << "\n";
      return 2;
    }
  return 0;
}
