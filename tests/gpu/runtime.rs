//! Graphs run by a runtime Plan on the GPU backend against the CPU reference backend.
