//! Graph optimisation passes: each rewrites a [`crate::graph::Graph`] and keeps its outputs equal.
