//! onnxruntime's quantized models with the value moves and average pools lowered too: every
//! `DQ → move/pool → Q` of the model runs on the integers (so the integer node count rises above
//! the Convs and MaxPools lowered before), each value crossing into float is dequantized once,
//! and the lowered graph survives `.kiln` and a standard-ONNX export, which onnxruntime runs
//! (`onnxruntime_runner`) with kiln's outputs within one step.

use std::collections::HashSet;

use kiln::format::{parse_kiln, to_kiln_bytes, Provenance};
use kiln::graph::passes::{
    border_conversions, node_arithmetic, optimize_with, Arithmetic, PassOptions,
};
use kiln::graph::{Graph, Op};
use kiln::import::onnx::{load_onnx, save_onnx};
use kiln::io::npy::read_npy;
use kiln::runtime::Backend;

use crate::common::run_lowered;
use crate::onnxruntime_models::{manifest, models_dir};
use crate::onnxruntime_runner::{run_kiln_export, WorkDir};
use crate::steps::max_steps;

/// Whether `op` is one the lowering runs on quantized values between a DQ and a Q.
fn moves_or_averages(op: &Op) -> bool {
    matches!(
        op,
        Op::MaxPool(_)
            | Op::GlobalMaxPool
            | Op::AveragePool(_)
            | Op::GlobalAveragePool
            | Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Squeeze
            | Op::Unsqueeze
            | Op::Transpose { .. }
            | Op::Slice
            | Op::Split { .. }
            | Op::Resize(_)
            | Op::Pad { .. }
    )
}

/// The nodes of the model as onnxruntime wrote it that sit between a DequantizeLinear and
/// QuantizeLinear nodes only: what the lowering must take (onnxruntime quantizes a move with the
/// same parameters on both sides, and an average pool per tensor).
fn between_dq_and_q(graph: &Graph) -> Vec<String> {
    let op_of = |value: &str| graph.producer(value).map(|(_, node)| &node.op);
    let read_only_by_q = |value: &str| {
        let readers: Vec<_> = (graph.nodes.iter())
            .filter(|node| node.inputs.iter().flatten().any(|input| input == value))
            .collect();
        !readers.is_empty()
            && readers
                .iter()
                .all(|node| matches!(node.op, Op::QuantizeLinear { .. }))
            && !graph.outputs.iter().any(|output| output.name == value)
    };
    (graph.nodes.iter())
        .filter(|node| moves_or_averages(&node.op))
        .filter(|node| {
            matches!(
                node.input(0).and_then(op_of),
                Some(Op::DequantizeLinear { .. })
            ) && node.outputs.iter().all(|output| read_only_by_q(output))
        })
        .map(|node| node.name.clone())
        .collect()
}

#[test]
fn onnxruntime_models_run_their_moves_and_pools_in_integers() {
    let Some(dir) = models_dir() else {
        return;
    };
    let mut checked = 0;
    for entry in manifest(&dir)
        .iter()
        .filter(|entry| entry.output_step > 0.0)
    {
        let graph = load_onnx(&dir.join(format!("{}.onnx", entry.name))).expect("the model loads");
        let candidates = between_dq_and_q(&graph);
        let max_pools = (graph.nodes.iter())
            .filter(|n| matches!(n.op, Op::MaxPool(_)))
            .count();
        let mut optimized = graph.clone();
        let options = PassOptions::default();
        let (_, lowering) = optimize_with(&mut optimized, &[], &options).expect("the passes run");
        let lowered: HashSet<&String> = lowering.lowered.iter().collect();
        let missed: Vec<_> = candidates
            .iter()
            .filter(|name| !lowered.contains(name))
            .collect();
        assert!(
            missed.is_empty(),
            "{}: not lowered {missed:?}: {lowering:?}",
            entry.name
        );
        let nodes = node_arithmetic(&optimized, &lowering);
        let integers = nodes
            .iter()
            .filter(|n| n.arithmetic == Arithmetic::Integer)
            .count();
        // Before: the Convs and MaxPools only. Every model has at least its GlobalAveragePool more.
        let before = entry.convs + max_pools;
        eprintln!(
            "{}: {integers} nodes in integers (Convs and MaxPools alone: {before}); moves and \
             pools between DQ and Q: {candidates:?}",
            entry.name
        );
        assert!(integers >= entry.convs + candidates.len(), "{}", entry.name);
        assert!(integers > before, "{}: {integers} ≤ {before}", entry.name);
        let broken = border_conversions(&optimized);
        assert!(broken.is_empty(), "{}: {broken:?}", entry.name);
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn a_lowered_model_round_trips_through_kiln_and_exports_standard_onnx() {
    let Some(dir) = models_dir() else {
        return;
    };
    let out = WorkDir::new("moves-export");
    for entry in manifest(&dir)
        .iter()
        .filter(|entry| entry.output_step > 0.0)
    {
        let graph = load_onnx(&dir.join(format!("{}.onnx", entry.name))).expect("the model loads");
        let input = read_npy(&dir.join(format!("{}.input.npy", entry.name))).unwrap();
        let inputs = [(entry.input.clone(), input.clone())];
        let mut optimized = graph.clone();
        optimize_with(&mut optimized, &[], &PassOptions::default()).expect("the passes run");
        assert!(
            (optimized.nodes.iter()).any(|n| matches!(n.op, Op::QLinearGlobalAveragePool)),
            "{}: the GlobalAveragePool is lowered",
            entry.name
        );
        // .kiln keeps the quantized pools as they are.
        let bytes = to_kiln_bytes(&optimized, &Provenance::in_memory()).unwrap();
        assert_eq!(
            parse_kiln(&bytes).unwrap().graph,
            optimized,
            "{}",
            entry.name
        );
        // The export holds standard ops only; imported and lowered again, it computes the same
        // integers (the lowering recovers the quantized pools from DQ → pool → Q).
        let path = out.0.join(format!("{}.onnx", entry.name));
        save_onnx(&optimized, &path).unwrap();
        let exported = load_onnx(&path).expect("the export imports");
        let written: HashSet<&str> = exported.nodes.iter().map(|n| n.op.name()).collect();
        assert!(
            !written.contains("QLinearGlobalAveragePool")
                && !written.contains("QLinearAveragePool")
        );
        let (kiln_output, _) = run_lowered(&optimized, &inputs, Backend::Cpu);
        let (again, _) = run_lowered(&exported, &inputs, Backend::Cpu);
        assert_eq!(
            max_steps(&again[0], &kiln_output[0], entry.output_step),
            0.0,
            "{}",
            entry.name
        );
    }
}

/// `x → Q → DQ → AveragePool 3×3 (pads, count_include_pad) → Q′ → DQ → Pad (constant 0.37) → Q′ →
/// DQ → Resize nearest ×(1.5, 2) → Q′ → DQ → Transpose → Q′ → DQ → Split in 2 → Q′ each`, outputs
/// the two quantized halves; `zero` (uint8 or int8) is every zero point.
fn moves_and_pools_chain(zero: kiln::tensor::TensorData) -> Graph {
    use kiln::graph::{AutoPad, Dim, Node, PoolAttrs, ResizeAttrs, ValueInfo};
    use kiln::ops::layout::PadMode;
    use kiln::ops::resize::{CoordinateMode, NearestMode, ResizeMode};
    use kiln::tensor::{DType, HostTensor};
    let node = |name: &str, op: Op, inputs: &[&str], outputs: &[&str]| Node {
        name: name.into(),
        op,
        inputs: inputs
            .iter()
            .map(|i| (!i.is_empty()).then(|| i.to_string()))
            .collect(),
        outputs: outputs.iter().map(|o| o.to_string()).collect(),
    };
    let q = || Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let dq = || Op::DequantizeLinear { axis: 1 };
    let average = PoolAttrs {
        kernel_shape: vec![3, 3],
        strides: vec![2, 1],
        pads: vec![1, 1, 1, 0],
        dilations: vec![1, 1],
        ceil_mode: true,
        count_include_pad: true,
        auto_pad: AutoPad::NotSet,
    };
    let resize = ResizeAttrs {
        mode: ResizeMode::Nearest(NearestMode::RoundPreferFloor),
        coordinates: CoordinateMode::HalfPixel,
        axes: vec![],
    };
    let nodes = vec![
        node("q0", q(), &["x", "s0", "z"], &["x_q"]),
        node("dq0", dq(), &["x_q", "s0", "z"], &["x_f"]),
        node("avg", Op::AveragePool(average), &["x_f"], &["a"]),
        node("q1", q(), &["a", "s1", "z"], &["a_q"]),
        node("dq1", dq(), &["a_q", "s1", "z"], &["a_f"]),
        node(
            "pad",
            Op::Pad {
                mode: PadMode::Constant(0.0),
            },
            &["a_f", "pads", "fill"],
            &["p"],
        ),
        node("q2", q(), &["p", "s1", "z"], &["p_q"]),
        node("dq2", dq(), &["p_q", "s1", "z"], &["p_f"]),
        node("resize", Op::Resize(resize), &["p_f", "", "scales"], &["r"]),
        node("q3", q(), &["r", "s1", "z"], &["r_q"]),
        node("dq3", dq(), &["r_q", "s1", "z"], &["r_f"]),
        node(
            "transpose",
            Op::Transpose {
                perm: Some(vec![0, 1, 3, 2]),
            },
            &["r_f"],
            &["t"],
        ),
        node("q4", q(), &["t", "s1", "z"], &["t_q"]),
        node("dq4", dq(), &["t_q", "s1", "z"], &["t_f"]),
        node(
            "split",
            Op::Split {
                axis: 1,
                num_outputs: None,
            },
            &["t_f", "halves"],
            &["h0", "h1"],
        ),
        node("q5", q(), &["h0", "s1", "z"], &["y0"]),
        node("q6", q(), &["h1", "s1", "z"], &["y1"]),
    ];
    let info = |name: &str| ValueInfo {
        name: name.into(),
        dtype: None,
        shape: None,
    };
    let f32s = |values: Vec<f32>| HostTensor::from_f32(&[values.len()], values).unwrap();
    let scalar = |value: f32| HostTensor::from_f32(&[], vec![value]).unwrap();
    let mut graph = Graph {
        name: "moves_and_pools".into(),
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: Some([1, 4, 7, 9].map(Dim::Fixed).to_vec()),
        }],
        outputs: vec![info("y0"), info("y1")],
        nodes,
        ..Graph::default()
    };
    let tensors = [
        ("s0", scalar(1.0 / 128.0)),
        ("s1", scalar(1.0 / 200.0)),
        ("z", HostTensor::new(&[], zero).unwrap()),
        (
            "pads",
            HostTensor::from_i64(&[8], vec![0, 0, 1, 2, 0, 0, 2, 1]).unwrap(),
        ),
        ("fill", scalar(0.37)),
        ("scales", f32s(vec![1.0, 1.0, 1.5, 2.0])),
        ("halves", HostTensor::from_i64(&[2], vec![1, 3]).unwrap()),
    ];
    graph
        .initializers
        .extend(tensors.map(|(name, t)| (name.to_string(), t)));
    graph
}

#[test]
fn a_chain_of_moves_and_pools_runs_in_onnxruntime_from_kilns_export() {
    use kiln::check::SeededRng;
    use kiln::tensor::{HostTensor, TensorData};
    let out = WorkDir::new("moves-chain-export");
    let gpu = kiln::device::Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let gpu = &gpu;
    for (label, zero) in [
        ("u8", TensorData::U8(vec![131])),
        ("s8", TensorData::I8(vec![-5])),
    ] {
        let graph = moves_and_pools_chain(zero);
        let mut optimized = graph.clone();
        let (_, lowering) = optimize_with(&mut optimized, &[], &PassOptions::default()).unwrap();
        assert_eq!(
            lowering.lowered,
            ["avg", "pad", "resize", "transpose", "split"]
        );
        assert!(border_conversions(&optimized).is_empty());
        let mut rng = SeededRng::new(17);
        let x = HostTensor::from_f32(&[1, 4, 7, 9], rng.uniform_vec(252, -1.2, 1.2)).unwrap();
        let inputs = [("x".to_string(), x.clone())];
        let (kiln_outputs, _) = run_lowered(&graph, &inputs, Backend::Cpu);
        let (on_gpu, _) = run_lowered(&graph, &inputs, Backend::Gpu(gpu));
        assert_eq!(
            on_gpu, kiln_outputs,
            "{label}: the GPU's integers are the CPU's"
        );
        let float_path = crate::common::run_unlowered(&graph, &inputs);
        for (got, want) in kiln_outputs.iter().zip(&float_path) {
            // One step: the average pool's bound; the moves add nothing.
            assert!(max_steps(got, want, 1.0) <= 1.0, "{label}");
        }
        // onnxruntime runs the export's DQ → AveragePool → Q in float: the pool's one step.
        let name = format!("moves_and_pools_{label}");
        let onnxruntime = run_kiln_export(&optimized, &out.0, &name, &inputs);
        for (got, want) in onnxruntime.iter().zip(&kiln_outputs) {
            assert!(max_steps(got, want, 1.0) <= 1.0, "{label}: onnxruntime");
        }
    }
}
