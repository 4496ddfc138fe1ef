"""Peer for bench/read_series.sh: reads a DICOM series with SimpleITK's ImageSeriesReader.

Prints the median wall time over N repeats (seconds) and the decoded size, one `key=value` per line.
"""
import statistics
import sys
import time

import SimpleITK as sitk

path, repeats = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    reader = sitk.ImageSeriesReader()
    uids = reader.GetGDCMSeriesIDs(path)
    names = reader.GetGDCMSeriesFileNames(path, uids[0])
    reader.SetFileNames(names)
    img = reader.Execute()
    arr_bytes = img.GetNumberOfPixels() * img.GetSizeOfPixelComponent()
    times.append(time.perf_counter() - t0)
print(f"median_s={statistics.median(times):.4f}")
print(f"dims={'x'.join(str(s) for s in img.GetSize())}")
print(f"decoded_bytes={arr_bytes}")
