//! Packed weights back to dense tensors, for writers of formats that have no packed layouts
//! (ONNX export from `kiln convert`).

use crate::error::Result;
use crate::graph::Graph;

/// Replaces every packed weight of `graph` by its dequantized f32 tensor
/// ([`crate::graph::PackedWeight::to_dense`]) and returns the names replaced, in name order.
pub fn densify_packed_weights(graph: &mut Graph) -> Result<Vec<String>> {
    let packed = std::mem::take(&mut graph.packed_weights);
    let mut names = Vec::with_capacity(packed.len());
    for (name, weight) in packed {
        graph.initializers.insert(name.clone(), weight.to_dense()?);
        names.push(name);
    }
    Ok(names)
}
