#!/usr/bin/env python3
"""Reads seg.dcm / sr.dcm written by `spinekit analyze` back with highdicom (and pydicom) and compares them
with the source series and the example's index dicom.json (written by spinekit analyze).

usage: check.py <source DICOM dir> <out dir>     (exit status 1 on any failure)
Nothing identifying is printed (UIDs and values only).
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pydicom
import highdicom as hd

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")


def sop_uid(ds):
    uid = str(ds.get("SOPInstanceUID", "") or "")
    return uid or str(ds.file_meta.MediaStorageSOPInstanceUID)


def main(src_dir, out_dir):
    out = Path(out_dir)
    exp = json.loads((out / "dicom.json").read_text())

    # Source instances: SOP Instance UID -> position (the SEG must reference exactly these).
    src = {}
    study_uid = None
    for p in sorted(Path(src_dir).rglob("*")):
        if not p.is_file():
            continue
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except Exception:
            continue
        src[sop_uid(ds)] = [float(x) for x in ds.ImagePositionPatient]
        study_uid = str(ds.get("StudyInstanceUID", "") or "")
    check(len(src) > 0, "source series read")

    # ---- SEG ----
    seg = hd.seg.segread(out / "seg.dcm")
    check(seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4", "SEG SOP class")
    check(seg.SegmentationType == "BINARY", "SEG is BINARY")
    check(seg.SOPInstanceUID == exp["seg_sop_instance_uid"], "SEG SOP Instance UID matches the sidecar")
    labels = {int(s.SegmentNumber): str(s.SegmentLabel) for s in seg.SegmentSequence}
    want = {s["number"]: s["label"] for s in exp["segments"]}
    check(labels == want, f"segment labels {labels} == expected {want}")
    check(seg.StudyInstanceUID == exp["source_study_instance_uid"], "SEG StudyInstanceUID copied from the source")
    if study_uid:
        check(seg.StudyInstanceUID == study_uid, "SEG StudyInstanceUID equals the source files'")
    check(seg.FrameOfReferenceUID == exp["frame_of_reference_uid"], "SEG FrameOfReferenceUID")
    # References resolve to the source instances.
    refs = seg.get_source_image_uids()
    ref_sops = {r[2] for r in refs}
    check(ref_sops == set(src), f"Referenced Series lists exactly the {len(src)} source instances ({len(ref_sops)})")
    check(all(r[1] == exp["source_series_instance_uid"] for r in refs), "referenced series UID")
    nf = int(seg.NumberOfFrames)
    check(nf == exp["frames"], f"NumberOfFrames {nf} == {exp['frames']}")
    pix = seg.pixel_array.reshape(nf, int(seg.Rows), int(seg.Columns))
    counts = {}
    for f, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
        pos = [float(x) for x in fg.PlanePositionSequence[0].ImagePositionPatient]
        sn = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        s_uid = fg.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        check(s_uid in src, f"frame {f}: source image is a source instance")
        if s_uid in src:
            check(max(abs(a - b) for a, b in zip(pos, src[s_uid])) < 1e-3,
                  f"frame {f}: position equals its source image's ImagePositionPatient")
        check(pix[f].any(), f"frame {f} is not empty")
        counts[sn] = counts.get(sn, 0) + int(pix[f].sum())
    want_vox = {s["number"]: s["voxels"] for s in exp["segments"]}
    check(counts == want_vox, f"voxels per segment {counts} == written {want_vox}")

    # ---- SR ----
    sr = hd.sr.srread(out / "sr.dcm")
    check(sr.SOPInstanceUID == exp["sr_sop_instance_uid"], "SR SOP Instance UID")
    check(sr.StudyInstanceUID == seg.StudyInstanceUID, "SR and SEG in one study")
    for attr in ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                 "AccessionNumber", "ReferringPhysicianName", "StudyID"]:
        check(str(sr.get(attr, "")) == str(seg.get(attr, "")), f"{attr} copied identically into SEG and SR")
    report = sr.content
    check(isinstance(report, hd.sr.MeasurementReport), "SR content parses as a TID 1500 MeasurementReport")
    vol_groups = report.get_volumetric_roi_measurement_groups()
    img_groups = report.get_image_measurement_groups()
    exp_vol = [g for g in exp["groups"] if g["referenced_segment"] is not None]
    exp_img = [g for g in exp["groups"] if g["referenced_segment"] is None]
    check(len(vol_groups) == len(exp_vol), f"{len(vol_groups)} TID 1411 groups == {len(exp_vol)}")
    check(len(img_groups) == len(exp_img), f"{len(img_groups)} TID 1501 groups == {len(exp_img)}")
    for got, e in list(zip(vol_groups, exp_vol)) + list(zip(img_groups, exp_img)):
        tid = e["tracking_id"]
        check(got.tracking_identifier == tid, f"tracking identifier {got.tracking_identifier!r} == {tid!r}")
        check(got.tracking_uid is not None, f"{tid}: tracking UID present")
        sites = [s.value.value for s in got.finding_sites]
        check(sites == ([e["finding_site"]] if e["finding_site"] else []), f"{tid}: finding site {sites}")
        if e["referenced_segment"] is not None:
            rs = got.referenced_segment
            check(rs is not None, f"{tid}: referenced segment present")
            if rs is not None:
                item = rs[0]
                check(item.referenced_sop_instance_uid == seg.SOPInstanceUID, f"{tid}: references the SEG")
                check(list(item.referenced_segment_numbers or []) == [e["referenced_segment"]],
                      f"{tid}: segment number {item.referenced_segment_numbers}")
                # The segment's label names the tracked level.
                check(tid.startswith(labels.get(e["referenced_segment"], "?")), f"{tid}: segment label matches")
        ms = got.get_measurements()
        check(len(ms) == len(e["measurements"]), f"{tid}: {len(ms)} measurements")
        for m, em in zip(ms, e["measurements"]):
            code, scheme, meaning = em["concept"]
            check((m.name.value, m.name.scheme_designator) == (code, scheme), f"{tid}: concept {m.name.value}")
            check(m.unit.value == em["unit"] and m.unit.scheme_designator == "UCUM", f"{tid}: unit {m.unit.value}")
            check(math.isclose(float(m.value), em["value"], rel_tol=1e-9, abs_tol=1e-9),
                  f"{tid}: {meaning} {m.value} == {em['value']}")
    # Evidence lists the SEG and the source images.
    ev = {e[2] for e in sr.get_evidence()}  # (study, series, SOP instance, SOP class)
    check(seg.SOPInstanceUID in ev and set(src) <= ev, "SR evidence lists the SEG and every source image")
    print(f"{out}: {len(want)} segments, {nf} frames, {len(vol_groups)}+{len(img_groups)} measurement groups: "
          + ("OK" if not failures else f"{len(failures)} FAILURES"))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
