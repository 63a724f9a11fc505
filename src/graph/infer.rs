//! Shape and dtype inference: every value's concrete dtype and shape once the graph inputs'
//! shapes are bound.
