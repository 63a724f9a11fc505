//! `kiln bench model` on a helper-built QDQ chain: each batch runs the float path (lowering off)
//! and the integer path (lowering on) and pairs their figures. Only the report's structure is
//! checked, never which path is faster.

use kiln::bench::measure::IterationSettings;
use kiln::bench::model::{run_cpu, ModelBenchConfig};
use kiln::bench::qdq::{comparison_markdown, QdqPath};
use kiln::tensor::DType;

use crate::chains::conv_chain;

fn config(compare_qdq: bool) -> ModelBenchConfig {
    ModelBenchConfig {
        // The chain declares a fixed batch of 2.
        batches: vec![2],
        input_shapes: Vec::new(),
        iterations: IterationSettings {
            warmup: 0,
            iterations: 2,
        },
        roofline: None,
        compare_qdq,
    }
}

#[test]
fn a_qdq_model_is_benchmarked_on_its_float_and_integer_paths_in_one_run() {
    let chain = conv_chain(DType::U8, 128, 0.05, 91);
    let (run, comparisons) = run_cpu(&chain.graph, "chain", &config(true), &mut |_| ()).unwrap();
    let variants: Vec<(usize, &str)> = (run.results.iter())
        .map(|result| (result.batch, result.variant.as_str()))
        .collect();
    let float = format!("reference, {}", QdqPath::Float.label());
    let integer = format!("reference, {}", QdqPath::Integer.label());
    let expected = [(2, &float), (2, &integer)];
    let expected: Vec<(usize, &str)> = expected.iter().map(|(b, v)| (*b, v.as_str())).collect();
    assert_eq!(variants, expected);
    assert_eq!(comparisons.len(), 1);
    for (comparison, batch) in comparisons.iter().zip([2]) {
        assert_eq!(comparison.batch, batch);
        // conv1 (QLinearConv with its Relu), the MaxPool and conv2.
        assert_eq!(comparison.integer.integer_nodes, 3);
        assert_eq!(comparison.float.integer_nodes, 0);
        for path in [&comparison.float, &comparison.integer] {
            assert!(path.p50_seconds > 0.0 && path.weight_bytes > 0 && path.peak_bytes > 0);
        }
        assert!(comparison.speedup().is_finite() && comparison.speedup() > 0.0);
    }
    let table = comparison_markdown(&comparisons);
    assert_eq!(table.lines().count(), 3, "{table}");

    let (alone, none) = run_cpu(&chain.graph, "chain", &config(false), &mut |_| ()).unwrap();
    assert!(none.is_empty());
    assert_eq!(alone.results.len(), 1);
    assert!(alone.results.iter().all(|r| r.variant == "reference"));
}
