//! `kiln bench model` on a QDQ model (QuantizeLinear/DequantizeLinear pairs, as onnxruntime's
//! `quantize_static` writes them): each batch runs twice in the same run, once with the QDQ
//! lowering off (every DequantizeLinear and QuantizeLinear a float op: the float path) and once
//! lowered (QLinearConv and int8/uint8 MaxPool: the integer path), and this module holds the
//! figures of both and prints them side by side with the ratio.

use crate::bench::measure::Latency;
use crate::graph::passes::PassOptions;
use crate::graph::{Graph, Op};
use crate::runtime::Plan;
use crate::tensor::HostTensor;

/// Whether `graph` has QuantizeLinear or DequantizeLinear nodes, so its float and integer paths
/// differ.
pub fn has_qdq(graph: &Graph) -> bool {
    graph.nodes.iter().any(|node| {
        matches!(
            node.op,
            Op::QuantizeLinear { .. } | Op::DequantizeLinear { .. }
        )
    })
}

/// The float path (lowering off) and the integer path (lowering on), in the order they run.
pub const QDQ_PATHS: [QdqPath; 2] = [QdqPath::Float, QdqPath::Integer];

/// One way of running a QDQ model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QdqPath {
    /// QDQ lowering off: every DequantizeLinear and QuantizeLinear runs as a float op.
    Float,
    /// QDQ lowering on: the lowered patterns run on the int8/uint8 values.
    Integer,
}

impl QdqPath {
    /// The passes that run this path.
    pub fn pass_options(self) -> PassOptions {
        PassOptions {
            lower_qdq: self == QdqPath::Integer,
        }
    }

    /// The result variant's suffix naming this path.
    pub fn label(self) -> &'static str {
        match self {
            QdqPath::Float => "QDQ as float ops",
            QdqPath::Integer => "QDQ lowered to integer ops",
        }
    }
}

/// What one path of a QDQ model measured at one batch.
#[derive(Clone, Debug, PartialEq)]
pub struct QdqPathFigures {
    /// Median latency of the primary timing source, in seconds.
    pub p50_seconds: f64,
    /// Bytes of the optimised graph's initializers: the weights the backend holds (int8 weights
    /// with their int32 biases and scales on the integer path, folded f32 weights on the float
    /// path).
    pub weight_bytes: usize,
    /// The plan's peak bytes of run-time values ([`Plan::peak_bytes`]).
    pub peak_bytes: u64,
    /// Nodes of the optimised graph computed in integers (QLinearConv, and MaxPool where the
    /// lowering made it integer).
    pub integer_nodes: usize,
}

impl QdqPathFigures {
    /// The figures of `plan`, built for one path and timed as `latency`; the integer node count
    /// is the plan's own ([`Plan::pass_report`]).
    pub fn of(plan: &Plan, latency: &Latency) -> Self {
        let weight_bytes = (plan.graph().initializers.values())
            .map(HostTensor::size_bytes)
            .sum();
        QdqPathFigures {
            p50_seconds: latency.primary_summary().p50,
            weight_bytes,
            peak_bytes: plan.peak_bytes(),
            integer_nodes: plan.pass_report().qdq_nodes_lowered,
        }
    }
}

/// Both paths of a QDQ model at one batch on one device.
#[derive(Clone, Debug, PartialEq)]
pub struct QdqComparison {
    /// The device, as the report labels it.
    pub device: String,
    /// The batch size.
    pub batch: usize,
    /// The float path (lowering off).
    pub float: QdqPathFigures,
    /// The integer path (lowering on).
    pub integer: QdqPathFigures,
}

impl QdqComparison {
    /// How many times faster the integer path is than the float path (median latencies).
    pub fn speedup(&self) -> f64 {
        self.float.p50_seconds / self.integer.p50_seconds
    }
}

/// A Markdown table of `rows`: per device and batch, each path's median latency, weight and
/// peak bytes, integer node count, and the float/integer latency ratio.
pub fn comparison_markdown(rows: &[QdqComparison]) -> String {
    let mut text = String::from(
        "| device | batch | float p50 ms | integer p50 ms | float/integer | integer nodes | \
         weights float B | weights integer B | peak float B | peak integer B |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        text += &format!(
            "| {} | {} | {:.3} | {:.3} | {:.2}x | {} | {} | {} | {} | {} |\n",
            row.device,
            row.batch,
            row.float.p50_seconds * 1e3,
            row.integer.p50_seconds * 1e3,
            row.speedup(),
            row.integer.integer_nodes,
            row.float.weight_bytes,
            row.integer.weight_bytes,
            row.float.peak_bytes,
            row.integer.peak_bytes,
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(p50_seconds: f64, weight_bytes: usize, integer_nodes: usize) -> QdqPathFigures {
        QdqPathFigures {
            p50_seconds,
            weight_bytes,
            peak_bytes: 4 * weight_bytes as u64,
            integer_nodes,
        }
    }

    #[test]
    fn the_table_has_a_row_per_device_and_batch_with_both_paths_and_their_ratio() {
        let rows = [
            QdqComparison {
                device: "cpu".into(),
                batch: 1,
                float: figures(0.004, 4000, 0),
                integer: figures(0.002, 1000, 3),
            },
            QdqComparison {
                device: "vulkan".into(),
                batch: 4,
                float: figures(0.003, 4000, 0),
                integer: figures(0.006, 1000, 3),
            },
        ];
        let table = comparison_markdown(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].contains("float/integer"), "{table}");
        assert_eq!(
            lines[2],
            "| cpu | 1 | 4.000 | 2.000 | 2.00x | 3 | 4000 | 1000 | 16000 | 4000 |"
        );
        assert!(
            lines[3].starts_with("| vulkan | 4 | 3.000 | 6.000 | 0.50x |"),
            "{table}"
        );
    }

    #[test]
    fn the_paths_differ_only_in_the_lowering() {
        assert!(!QdqPath::Float.pass_options().lower_qdq);
        assert!(QdqPath::Integer.pass_options().lower_qdq);
        assert_ne!(QdqPath::Float.label(), QdqPath::Integer.label());
    }
}
