# ParaView check of fpflow VTK output: opens fpflow.pvd, checks the cell arrays and the final mass.
#
# Usage: pvbatch tools/paraview_check.py OUTPUT_DIR
#
# Opens OUTPUT_DIR/fpflow.pvd with ParaView's reader, takes the last time step,
# checks that density (1 component), drift (3) and current (3) are cell data,
# integrates density * cell volume and compares it with "mass_final" in
# OUTPUT_DIR/summary.json (relative tolerance 1e-10). Exit status 0 = pass, 1 = fail.
import json
import os
import sys

import numpy as np
from paraview import servermanager
from paraview.simple import ForceTime, OpenDataFile
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkDataObjectTreeIterator, vtkDataSet

EXPECTED = {"density": 1, "drift": 3, "current": 3}
RTOL = 1e-10


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def leaves(data):
    """The non-empty datasets in data (a dataset, or a multiblock/partitioned collection)."""
    if isinstance(data, vtkDataSet):
        return [data] if data.GetNumberOfCells() > 0 else []
    it = vtkDataObjectTreeIterator()
    it.SetDataSet(data)
    it.SkipEmptyNodesOn()
    it.VisitOnlyLeavesOn()
    out = []
    it.InitTraversal()
    while not it.IsDoneWithTraversal():
        leaf = it.GetCurrentDataObject()
        if isinstance(leaf, vtkDataSet) and leaf.GetNumberOfCells() > 0:
            out.append(leaf)
        it.GoToNextItem()
    return out


def main():
    if len(sys.argv) != 2:
        fail("usage: pvbatch tools/paraview_check.py OUTPUT_DIR")
    outdir = sys.argv[1]
    pvd = os.path.join(outdir, "fpflow.pvd")
    with open(os.path.join(outdir, "summary.json")) as f:
        summary = json.load(f)
    dim = int(summary["dim"])
    mass_final = float(summary["mass_final"])

    reader = OpenDataFile(pvd)
    if reader is None:
        fail("ParaView could not open " + pvd)
    times = list(reader.TimestepValues or [])
    if not times:
        fail("no time steps in " + pvd)
    last = times[-1]
    # ForceTime makes the fetched data the last step regardless of pipeline time.
    data = servermanager.Fetch(ForceTime(Input=reader, ForcedTime=last, IgnorePipelineTime=1))
    blocks = leaves(data)
    if not blocks:
        fail("no cells in the fetched data (%s)" % data.GetClassName())

    mass = 0.0
    ncells = 0
    for b in blocks:
        if not b.IsA("vtkImageData"):
            fail("expected vtkImageData pieces, got " + b.GetClassName())
        cd = b.GetCellData()
        for name, ncomp in EXPECTED.items():
            arr = cd.GetArray(name)
            if arr is None:
                fail("cell array '%s' missing" % name)
            if arr.GetNumberOfComponents() != ncomp:
                fail("cell array '%s' has %d components, expected %d"
                     % (name, arr.GetNumberOfComponents(), ncomp))
        rho = vtk_to_numpy(cd.GetArray("density")).astype(float)
        ghost = cd.GetArray("vtkGhostType")
        if ghost is not None:  # do not count duplicated ghost cells
            rho = rho[vtk_to_numpy(ghost) == 0]
        if not np.all(np.isfinite(rho)):
            fail("non-finite density values")
        mass += rho.sum() * float(np.prod(b.GetSpacing()[:dim]))
        ncells += rho.size

    expected_cells = int(np.prod(summary["cells"]))
    rel = abs(mass - mass_final) / abs(mass_final)
    print("fpflow ParaView check: %s" % pvd)
    print("  time steps      : %d (last t = %.17g)" % (len(times), last))
    print("  fetched data    : %s, %d piece(s), %d cells (summary: %d)"
          % (data.GetClassName(), len(blocks), ncells, expected_cells))
    print("  cell arrays     : " + ", ".join(
        "%s(%d)" % (blocks[0].GetCellData().GetArrayName(i),
                    blocks[0].GetCellData().GetArray(i).GetNumberOfComponents())
        for i in range(blocks[0].GetCellData().GetNumberOfArrays())))
    print("  integrated mass : %.17g" % mass)
    print("  mass_final      : %.17g" % mass_final)
    print("  relative diff   : %.3e (tolerance %.0e)" % (rel, RTOL))
    if ncells != expected_cells:
        fail("cell count %d != %d from summary.json" % (ncells, expected_cells))
    if not rel <= RTOL:
        fail("integrated mass differs from mass_final")
    print("PASS")
    sys.exit(0)


if __name__ == "__main__":
    main()
