# SPDX-License-Identifier: GPL-3.0-or-later
# harmonize_data.py — synthetic MR/CT series written with pydicom for the harmonization tests:
# a brain-like phantom (CSF, grey and white matter ellipsoids, Gaussian noise) on any
# orientation, label maps, series without geometry and 4D series; and reading a derived series
# back with pydicom (voxels after the rescale, LPS geometry), independently of Curata.
import glob
import os

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def rotation(ax, ay, az):
    """Direction matrix (columns = unit LPS vectors of i, j, k) from angles in degrees."""
    a, b, c = np.radians([ax, ay, az])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def phantom(shape, rng, scale=1.0, offset=0.0, noise=12.0, wm=800, gm=600, csf=300,
            background=5.0):
    """A (nz, ny, nx) brain-like volume: WM core inside GM shell inside CSF rim; values
    scale * tissue + offset + noise, background near zero. Returns float64."""
    nz, ny, nx = shape
    z, y, x = np.meshgrid(np.linspace(-1, 1, nz), np.linspace(-1, 1, ny), np.linspace(-1, 1, nx),
                          indexing="ij")
    r = np.sqrt((x / 0.85) ** 2 + (y / 0.75) ** 2 + (z / 0.9) ** 2)
    img = np.full(shape, background, dtype=np.float64)
    img[r < 0.95] = csf
    img[r < 0.85] = gm
    img[r < 0.6] = wm
    # a few "lesions" and a ventricle so that histograms are not three spikes
    img[(((x - 0.2) / 0.15) ** 2 + (y / 0.3) ** 2 + (z / 0.3) ** 2) < 1] = csf
    img[(((x + 0.3) / 0.1) ** 2 + ((y - 0.2) / 0.1) ** 2 + (z / 0.2) ** 2) < 1] = 0.5 * (gm + wm)
    fg = img > background
    img = img * scale + offset * fg
    img = img + rng.normal(0, noise, shape)
    return np.clip(np.round(img), 0, 32000)


def write_series(folder, volume, spacing=(1.0, 1.0, 2.0), direction=None, origin=(-60.0, -70.0, -40.0),
                 modality="MR", patient_id="SITEA-0001", study_uid=None, series_number=1,
                 description="T2 AX", manufacturer="Acme", institution="Site A", model="M1",
                 geometry=True, repeats=1, intercept=0.0, slope=1.0, extra=None):
    """volume: (nz, ny, nx) stored values (int16 range). Writes one file per slice (and per
    repeat for a 4D series). Returns the SeriesInstanceUID."""
    os.makedirs(folder, exist_ok=True)
    d = np.eye(3) if direction is None else np.asarray(direction, dtype=float)
    nz, ny, nx = volume.shape
    study_uid = study_uid or generate_uid()
    series_uid = generate_uid()
    frame_uid = generate_uid()
    sop_class = CT_STORAGE if modality == "CT" else MR_STORAGE
    n = 0
    for t in range(repeats):
        for k in range(nz):
            ds = Dataset()
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = sop_class
            meta.MediaStorageSOPInstanceUID = generate_uid()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.file_meta = meta
            ds.SOPClassUID = sop_class
            ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
            ds.PatientID = patient_id
            ds.PatientName = patient_id
            ds.PatientBirthDate = ""
            ds.PatientSex = "O"
            ds.PatientIdentityRemoved = "YES"
            ds.DeidentificationMethod = "synthetic test data"
            ds.StudyInstanceUID = study_uid
            ds.SeriesInstanceUID = series_uid
            ds.FrameOfReferenceUID = frame_uid
            ds.StudyDate = "20240101"
            ds.StudyTime = "120000"
            ds.StudyID = "1"
            ds.AccessionNumber = ""
            ds.ReferringPhysicianName = ""
            ds.Modality = modality
            ds.Manufacturer = manufacturer
            ds.ManufacturerModelName = model
            ds.InstitutionName = institution
            ds.SeriesNumber = series_number
            ds.SeriesDescription = description
            ds.InstanceNumber = n + 1
            ds.PositionReferenceIndicator = ""
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            if modality == "MR":
                ds.ScanningSequence = "SE"
                ds.SequenceVariant = "NONE"
                ds.ScanOptions = ""
                ds.MRAcquisitionType = "2D"
                ds.RepetitionTime = 4000
                ds.EchoTime = 100
                ds.EchoTrainLength = 16
                ds.MagneticFieldStrength = 3
                ds.ImagingFrequency = 127.7
                ds.SliceThickness = spacing[2]
            else:
                ds.KVP = 120
                ds.SliceThickness = spacing[2]
            if repeats > 1:
                ds.TemporalPositionIdentifier = t + 1
                ds.NumberOfTemporalPositions = repeats
            if geometry:
                pos = np.asarray(origin) + d[:, 2] * spacing[2] * k
                ds.ImagePositionPatient = [f"{v:.6f}" for v in pos]
                ds.ImageOrientationPatient = [f"{v:.8f}" for v in list(d[:, 0]) + list(d[:, 1])]
                ds.PixelSpacing = [spacing[1], spacing[0]]
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.Rows = ny
            ds.Columns = nx
            ds.BitsAllocated = 16
            ds.BitsStored = 16
            ds.HighBit = 15
            ds.PixelRepresentation = 1
            ds.RescaleIntercept = intercept
            ds.RescaleSlope = slope
            if modality == "CT":
                ds.RescaleType = "HU"
            if extra:
                for key, value in extra.items():
                    setattr(ds, key, value)
            ds.PixelData = np.ascontiguousarray(volume[k].astype("<i2")).tobytes()
            ds.is_little_endian = True
            ds.is_implicit_VR = False
            pydicom.dcmwrite(os.path.join(folder, f"im{n:04d}.dcm"), ds, write_like_original=False)
            n += 1
    return series_uid


def read_series(files):
    """(voxels (nz, ny, nx) float64 after the rescale, origin, direction (columns i, j, k),
    spacing (i, j, k)) of a single-stack series, sorted along the slice normal."""
    dss = [pydicom.dcmread(f) for f in files]
    iop = np.array(dss[0].ImageOrientationPatient, dtype=float)
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    dss.sort(key=lambda ds: float(np.dot(normal, np.array(ds.ImagePositionPatient, dtype=float))))
    pos = [np.array(ds.ImagePositionPatient, dtype=float) for ds in dss]
    dz = float(np.dot(normal, pos[1] - pos[0])) if len(pos) > 1 else float(dss[0].SliceThickness)
    ps = [float(v) for v in dss[0].PixelSpacing]
    vox = np.stack([ds.pixel_array.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1))
                    + float(getattr(ds, "RescaleIntercept", 0)) for ds in dss])
    d = np.column_stack([row, col, normal])
    return vox, pos[0], d, np.array([ps[1], ps[0], dz])


def derived_files(ws, uid):
    files = sorted(glob.glob(os.path.join(ws, "objects", "derived", uid, "*")))
    assert files, f"no files for derived series {uid} in {ws}"
    return files
