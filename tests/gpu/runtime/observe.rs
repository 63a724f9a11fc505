//! Observers on both backends: every observed value equals running the graph up to it, a named set
//! sees exactly those values, unknown or removed names are errors listing the plan's values, and
//! observing keeps nothing alive longer (the measured peak equals the schedule's). On YOLOv3-tiny,
//! every intermediate the GPU produces is compared with the CPU reference's.

use kiln::check::compare;
use kiln::graph::{Graph, ValueInfo};
use kiln::runtime::cpu::run_graph;
use kiln::runtime::{observe_only, Backend, CollectToHost, Observed, Plan, Selection};
use kiln::tensor::HostTensor;
use kiln::Error;

use super::builder::random_input;
use super::{cnn, max_abs, yolo, UNIT_ROUNDOFF};
use crate::common::gpu;

fn image_input() -> Vec<(String, HostTensor)> {
    vec![("image".to_string(), random_input(11, &[1, 3, 16, 16]))]
}

fn shapes_of(inputs: &[(String, HostTensor)]) -> Vec<(String, Vec<usize>)> {
    (inputs.iter())
        .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
        .collect()
}

/// The plan's values in production order: graph inputs, then node outputs.
fn plan_values(graph: &Graph) -> Vec<String> {
    (graph.inputs.iter().map(|input| input.name.clone()))
        .chain(graph.nodes.iter().flat_map(|node| node.outputs.clone()))
        .collect()
}

/// `graph` with `name` as its only output, run as given on the CPU reference.
fn prefix_value(graph: &Graph, name: &str, inputs: &[(String, HostTensor)]) -> HostTensor {
    let mut prefix = graph.clone();
    prefix.outputs = vec![ValueInfo {
        name: name.into(),
        dtype: None,
        shape: None,
    }];
    run_graph(&prefix, inputs).unwrap().remove(0).1
}

/// Bound for the test CNN's values on two backends: the derivation at
/// `cnn_matches_the_cpu_backend_and_repeats_exactly` (four accumulating layers, each within
/// 3.1e-5 of the largest activation, rounded up to 2e-4), plus Softmax's own few roundings.
fn cnn_tolerance(want: &HostTensor) -> f32 {
    2e-4 * max_abs(want) + 8.0 * UNIT_ROUNDOFF
}

#[test]
fn cpu_observed_values_equal_their_prefix_graphs() {
    let inputs = image_input();
    let mut plan = Plan::new(&cnn(), &shapes_of(&inputs), Backend::Cpu).unwrap();
    let mut collected = CollectToHost::new(Selection::All);
    let outputs = plan.run_observed(&inputs, &mut collected).unwrap();
    let names: Vec<String> = collected
        .values
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(names, plan_values(plan.graph()));
    for (name, value) in &collected.values {
        let want = prefix_value(plan.graph(), name, &inputs);
        assert_eq!(value, &want, "value '{name}'");
    }
    assert_eq!(
        outputs,
        plan.run(&inputs).unwrap(),
        "observing changes no output"
    );
}

#[test]
fn gpu_observed_values_match_the_cpu_prefix_graphs() {
    let Some(gpu) = gpu() else { return };
    let inputs = image_input();
    let mut plan = Plan::new(&cnn(), &shapes_of(&inputs), Backend::Gpu(gpu)).unwrap();
    let mut collected = CollectToHost::new(Selection::All);
    plan.run_observed(&inputs, &mut collected).unwrap();
    assert_eq!(collected.values.len(), plan_values(plan.graph()).len());
    for (name, value) in &collected.values {
        let want = prefix_value(plan.graph(), name, &inputs);
        assert_eq!(value.shape(), want.shape(), "value '{name}'");
        let want_values = want.expect_f32("test").unwrap();
        let tolerance = vec![cnn_tolerance(&want); want_values.len()];
        compare(
            name,
            value.expect_f32("test").unwrap(),
            want_values,
            &tolerance,
        )
        .assert_passed();
    }
}

#[test]
fn a_named_set_sees_only_those_values_on_both_backends() {
    let inputs = image_input();
    let shapes = shapes_of(&inputs);
    let mut backends = vec![Backend::Cpu];
    backends.extend(gpu().map(Backend::Gpu));
    for backend in backends {
        let mut plan = Plan::new(&cnn(), &shapes, backend).unwrap();
        let values = plan_values(plan.graph());
        let wanted = [values[2].clone(), "image".into(), values[1].clone()];
        let mut seen = Vec::new();
        let mut observer = observe_only(wanted.clone(), |name: &str, value: Observed<'_>| {
            seen.push((name.to_string(), value.shape().to_vec()));
            Ok(())
        });
        plan.run_observed(&inputs, &mut observer).unwrap();
        let seen_names: Vec<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            seen_names,
            ["image", values[1].as_str(), values[2].as_str()]
        );
        assert_eq!(seen[0].1, [1, 3, 16, 16]);
        // "n1" is BatchNormalization's output, which the passes fold into conv1.
        for missing in ["no_such_value", "n1"] {
            let mut observer = CollectToHost::new(Selection::names([missing]));
            match plan.run_observed(&inputs, &mut observer).unwrap_err() {
                Error::InvalidArgument { detail, .. } => {
                    assert!(detail.contains(missing), "{detail}");
                    assert!(detail.contains(&format!("{:?}", values[1])), "{detail}");
                }
                other => panic!("expected InvalidArgument, got {other}"),
            }
            assert!(observer.values.is_empty(), "nothing runs before the check");
        }
    }
}

#[test]
fn observing_keeps_no_value_alive_longer() {
    let inputs = image_input();
    let shapes = shapes_of(&inputs);
    let mut backends = vec![Backend::Cpu];
    backends.extend(gpu().map(Backend::Gpu));
    for backend in backends {
        let mut plan = Plan::new(&cnn(), &shapes, backend).unwrap();
        plan.run(&inputs).unwrap();
        let unobserved = plan.measured_peak_bytes();
        let mut every_value = 0;
        let mut count = |_: &str, _: Observed<'_>| {
            every_value += 1;
            Ok(())
        };
        plan.run_observed(&inputs, &mut count).unwrap();
        assert_eq!(every_value, plan_values(plan.graph()).len());
        assert_eq!(plan.measured_peak_bytes(), unobserved);
        assert_eq!(
            unobserved,
            plan.peak_bytes(),
            "the loop holds what the schedule says"
        );
    }
}

/// Bound for YOLOv3-tiny's intermediates: 13 convolutions of K ≤ 3·3·512 = 4608 in sequence, each
/// within (K + 2)·u·Σ|terms| on either backend. With weights in ±√(3/K) the sums of |terms| stay
/// within √K ≈ 68× the largest activation, so one layer adds ≤ 2·4610·u·68 ≈ 3.7e-2 of it in the
/// worst case; the errors of random-signed terms add like a random walk, √K smaller, giving
/// ≈ 5.5e-4 per layer and, over 13 layers whose BN scales and leaky Relu do not grow them,
/// below 1e-2 of the largest activation of each value.
pub const YOLO_RELATIVE_TOLERANCE: f32 = 1e-2;

#[test]
fn yolov3_tiny_gpu_intermediates_match_the_cpu_reference() {
    let Some(gpu) = gpu() else { return };
    let Some(graph) = yolo::yolov3_tiny() else {
        return;
    };
    let side = yolo::SIDE;
    let inputs = vec![("input".to_string(), random_input(5, &[1, 3, side, side]))];
    let shapes = shapes_of(&inputs);
    let mut on_gpu = Plan::new(&graph, &shapes, Backend::Gpu(gpu)).unwrap();
    let mut on_cpu = Plan::new(&graph, &shapes, Backend::Cpu).unwrap();
    let mut got = CollectToHost::new(Selection::All);
    let mut want = CollectToHost::new(Selection::All);
    on_gpu.run_observed(&inputs, &mut got).unwrap();
    on_cpu.run_observed(&inputs, &mut want).unwrap();
    assert_eq!(got.values.len(), want.values.len());
    assert_eq!(got.values.len(), plan_values(on_gpu.graph()).len());
    for ((name, value), (want_name, want_value)) in got.values.iter().zip(&want.values) {
        assert_eq!(name, want_name);
        let want_values = want_value.expect_f32("test").unwrap();
        let tolerance = YOLO_RELATIVE_TOLERANCE * max_abs(want_value);
        let tolerances = vec![tolerance; want_values.len()];
        compare(
            name,
            value.expect_f32("test").unwrap(),
            want_values,
            &tolerances,
        )
        .assert_passed();
    }
}
