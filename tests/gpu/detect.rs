//! Detection decode (anchor grids, anchor-free) on the GPU against the CPU reference, and a small YOLO-style graph end to end.
