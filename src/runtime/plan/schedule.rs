//! Liveness: when each run-time value (a graph input or a node output; initializers are resident
//! and not counted) can be dropped, which relabelling nodes take their input's buffer instead of
//! copying it, and the peak of live bytes that follows.
//!
//! A value is live from the step that produces it (graph inputs: from step 0) through the step of
//! its last reader; graph outputs live to the end; a value nothing reads dies where it is made.
//! During step `i` the node's inputs and outputs are both live. A relabel (Reshape, Flatten,
//! Squeeze, Unsqueeze, Identity) that is its input's last reader moves that buffer to its output,
//! so both values share one buffer and the peak counts it once.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::error::{Error, Result};
use crate::graph::infer::ValueType;
use crate::graph::{Graph, Node};
use crate::runtime::gpu::is_relabel;

/// What a run does with values between nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Schedule {
    /// Per node: the values to drop once it has run (inputs it read last, outputs nobody reads).
    pub drops: Vec<Vec<String>>,
    /// Per node: whether it relabels its first input's buffer in place, consuming that value.
    pub moves: Vec<bool>,
    /// Graph inputs that a node or the outputs read (the others are checked but not uploaded).
    pub needed_inputs: HashSet<String>,
    /// The most bytes of run-time values live at once.
    pub peak_bytes: u64,
}

/// One buffer: its size and the steps it is live over.
struct Buffer {
    bytes: u64,
    first: usize,
    last: usize,
}

impl Schedule {
    /// The schedule of `graph`, whose every value has a type in `types`.
    pub fn new(graph: &Graph, types: &BTreeMap<String, ValueType>) -> Result<Self> {
        Self::walk(graph, Some(types))
    }

    /// The schedule of a graph run as given, whose types are not inferred: the same drops, but no
    /// relabel moves its input (every node is evaluated by its backend) and no peak is known (0).
    pub fn as_given(graph: &Graph) -> Result<Self> {
        Self::walk(graph, None)
    }

    /// Walks `graph`; with `types`, relabels move their input and the peak is counted.
    fn walk(graph: &Graph, types: Option<&BTreeMap<String, ValueType>>) -> Result<Self> {
        let mut walk = Walk::new(graph, types);
        let mut needed_inputs = HashSet::new();
        for input in &graph.inputs {
            if walk.is_used(&input.name) {
                needed_inputs.insert(input.name.clone());
                walk.define(&input.name, 0, None)?;
            }
        }
        let mut moves = vec![false; graph.nodes.len()];
        for (step, node) in graph.nodes.iter().enumerate() {
            let moved = types.and_then(|_| walk.moved_source(step, node));
            if let Some(source) = moved {
                moves[step] = true;
                walk.drops[step].retain(|name| name != source);
            }
            for (index, name) in node.outputs.iter().enumerate() {
                let shared = moved
                    .filter(|_| index == 0)
                    .and_then(|source| walk.buffer_of.get(source).copied());
                walk.define(name, step, shared)?;
            }
        }
        Ok(Schedule {
            peak_bytes: peak(&walk.buffers, graph.nodes.len()),
            drops: walk.drops,
            moves,
            needed_inputs,
        })
    }
}

/// The state of the liveness walk over a graph's values in definition order.
struct Walk<'g> {
    graph: &'g Graph,
    types: Option<&'g BTreeMap<String, ValueType>>,
    outputs: HashSet<&'g str>,
    /// The last step that reads each value.
    last_read: HashMap<&'g str, usize>,
    drops: Vec<Vec<String>>,
    buffers: Vec<Buffer>,
    buffer_of: HashMap<&'g str, usize>,
}

impl<'g> Walk<'g> {
    fn new(graph: &'g Graph, types: Option<&'g BTreeMap<String, ValueType>>) -> Self {
        let mut last_read = HashMap::new();
        for (step, node) in graph.nodes.iter().enumerate() {
            for name in node.inputs.iter().flatten() {
                last_read.insert(name.as_str(), step);
            }
        }
        Walk {
            graph,
            types,
            outputs: graph.outputs.iter().map(|o| o.name.as_str()).collect(),
            last_read,
            drops: vec![Vec::new(); graph.nodes.len()],
            buffers: Vec::new(),
            buffer_of: HashMap::new(),
        }
    }

    /// Whether a node or the graph's outputs read `name`.
    fn is_used(&self, name: &str) -> bool {
        self.last_read.contains_key(name) || self.outputs.contains(name)
    }

    /// Records value `name`, made at `step`: when it is dropped, and its buffer (`shared`, when a
    /// relabel moved its input's buffer to it, else a new one) live through its last step.
    fn define(&mut self, name: &'g str, step: usize, shared: Option<usize>) -> Result<()> {
        let last = if self.outputs.contains(name) {
            self.graph.nodes.len().saturating_sub(1)
        } else {
            let last = self.last_read.get(name).copied().unwrap_or(step);
            self.drops[last].push(name.to_string());
            last
        };
        let buffer = match shared {
            Some(buffer) => buffer,
            None => {
                self.buffers.push(Buffer {
                    bytes: match self.types {
                        Some(types) => bytes_of(types, name)?,
                        None => 0,
                    },
                    first: step,
                    last,
                });
                self.buffers.len() - 1
            }
        };
        self.buffers[buffer].last = self.buffers[buffer].last.max(last);
        self.buffer_of.insert(name, buffer);
        Ok(())
    }

    /// The value `node` (at `step`) moves: its first input, when the node only relabels it, it is
    /// a run-time value that is no graph output, and this is its last and only read here.
    fn moved_source(&self, step: usize, node: &'g Node) -> Option<&'g str> {
        let source = node.input(0)?;
        let reads = node.inputs.iter().flatten().filter(|name| *name == source);
        let movable = is_relabel(node)
            && !self.graph.initializers.contains_key(source)
            && !self.outputs.contains(source)
            && self.last_read.get(source) == Some(&step)
            && reads.count() == 1;
        movable.then_some(source)
    }
}

/// The bytes of value `name` by its inferred type.
fn bytes_of(types: &BTreeMap<String, ValueType>, name: &str) -> Result<u64> {
    let value_type = types.get(name).ok_or_else(|| Error::InvalidModel {
        location: format!("value '{name}'"),
        detail: "has no inferred type".into(),
    })?;
    Ok(value_type.size_bytes()? as u64)
}

/// The largest sum of the bytes of buffers live at one step, by a sweep over the steps: each
/// buffer adds its bytes where it starts and takes them away after its last step, so the cost is
/// O(steps + buffers), not their product (which made planning a 100k-node chain take minutes).
fn peak(buffers: &[Buffer], step_count: usize) -> u64 {
    let steps = step_count.max(1);
    let mut change = vec![0i128; steps + 1];
    for buffer in buffers
        .iter()
        .filter(|buffer| buffer.first < steps && buffer.first <= buffer.last)
    {
        change[buffer.first] += i128::from(buffer.bytes);
        change[buffer.last.min(steps - 1) + 1] -= i128::from(buffer.bytes);
    }
    let mut live = 0i128;
    let mut most = 0i128;
    for delta in &change[..steps] {
        live += delta;
        most = most.max(live);
    }
    most as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Op, ValueInfo};
    use crate::ops::elementwise::UnaryOp;
    use crate::tensor::{DType, HostTensor};

    fn node(name: &str, op: Op, inputs: &[&str], outputs: &[&str]) -> Node {
        Node {
            name: name.into(),
            op,
            inputs: inputs.iter().map(|&i| Some(i.to_string())).collect(),
            outputs: outputs.iter().map(|&o| o.to_string()).collect(),
        }
    }

    fn value(name: &str) -> ValueInfo {
        ValueInfo {
            name: name.into(),
            dtype: Some(DType::F32),
            shape: None,
        }
    }

    /// x[64 B] → Exp → a[64] → Concat(a, a) → b[128] → Reshape → c[128] → Exp → d[128] (output),
    /// with Split's unread second half `e` dying where it is made.
    fn chain() -> (Graph, BTreeMap<String, ValueType>) {
        let exp = Op::Unary(UnaryOp::Exp);
        let mut graph = Graph {
            inputs: vec![value("x"), value("unused")],
            outputs: vec![value("d")],
            nodes: vec![
                node("exp1", exp.clone(), &["x"], &["a"]),
                node("cat", Op::Concat { axis: 0 }, &["a", "a"], &["b"]),
                node("flat", Op::Flatten { axis: 0 }, &["b"], &["c"]),
                node("exp2", exp, &["c"], &["d"]),
                node(
                    "tail",
                    Op::Split {
                        axis: 1,
                        num_outputs: Some(2),
                    },
                    &["d"],
                    &["f", "e"],
                ),
            ],
            ..Graph::default()
        };
        graph.outputs.push(value("f"));
        graph
            .initializers
            .insert("w".into(), HostTensor::zeros(&[4], DType::F32).unwrap());
        let types = [
            ("x", vec![4, 4]),
            ("unused", vec![100]),
            ("a", vec![4, 4]),
            ("b", vec![8, 4]),
            ("c", vec![1, 32]),
            ("d", vec![1, 32]),
            ("e", vec![1, 16]),
            ("f", vec![1, 16]),
            ("w", vec![4]),
        ]
        .into_iter()
        .map(|(name, shape)| (name.to_string(), ValueType::new(DType::F32, shape)))
        .collect();
        (graph, types)
    }

    #[test]
    fn drops_after_last_reader_and_moves_relabels() {
        let (graph, types) = chain();
        let schedule = Schedule::new(&graph, &types).unwrap();
        assert_eq!(schedule.moves, [false, false, true, false, false]);
        let expected: [&[&str]; 5] = [&["x"], &["a"], &[], &["c"], &["e"]];
        for (step, names) in expected.iter().enumerate() {
            assert_eq!(schedule.drops[step], *names, "step {step}");
        }
        assert!(schedule.needed_inputs.contains("x"));
        assert!(!schedule.needed_inputs.contains("unused"));
    }

    #[test]
    fn peak_counts_each_buffer_once_over_its_live_steps() {
        let (graph, types) = chain();
        // Step 0: x 64 + a 64; step 1: a 64 + b 128; step 2: b/c 128 (moved, one buffer);
        // step 3: c 128 + d 128 = 256; step 4: d 128 + f 64 + e 64 = 256.
        assert_eq!(Schedule::new(&graph, &types).unwrap().peak_bytes, 256);
    }

    #[test]
    fn a_value_without_a_type_is_an_error() {
        let (graph, mut types) = chain();
        types.remove("b");
        assert!(matches!(
            Schedule::new(&graph, &types),
            Err(Error::InvalidModel { .. })
        ));
    }
}
