"""The dense tasks every backend may answer, in the order models index them."""
TASKS = ('segmentation', 'depth', 'normals')
