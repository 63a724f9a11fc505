//! A helper-built detector-neck chain of the integer element-wise ops: `Add` of two quantized
//! inputs, SiLU written as `Mul(x, Sigmoid(x))` on the sum, and `Concat` of that with an input
//! quantized differently. Lowered, it runs QLinearAdd → LookupTable → QLinearConcat with no
//! dequantization in between, the same bytes on the CPU and the GPU, within a derived bound of
//! the unlowered float path.

use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::graph::{Dim, Graph, Node, Op, ValueInfo};
use kiln::ops::elementwise::{BinaryOp, UnaryOp};
use kiln::ops::PointwiseActivation;
use kiln::runtime::{Backend, Plan};
use kiln::tensor::{DType, HostTensor, TensorData};

use crate::common::{plan_ops, run_lowered, run_unlowered};

const SHAPE: [usize; 4] = [1, 3, 5, 7];

fn node(name: &str, op: Op, inputs: &[&str], output: &str) -> Node {
    Node {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|input| Some(input.to_string())).collect(),
        outputs: vec![output.into()],
    }
}

fn value(name: &str, shape: Option<&[usize]>) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: shape.map(|_| DType::F32),
        shape: shape.map(|shape| shape.iter().map(|&size| Dim::Fixed(size)).collect()),
    }
}

/// The chain, every activation quantized to `dtype` with `zero_point`.
fn neck(dtype: DType, zero_point: i32) -> Graph {
    let quantize = || Op::QuantizeLinear {
        axis: 1,
        saturate: true,
    };
    let dq = || Op::DequantizeLinear { axis: 1 };
    let sigmoid = Op::Unary(UnaryOp::Activation(PointwiseActivation::Sigmoid));
    let nodes = vec![
        node("q_a", quantize(), &["a", "sa", "z"], "a_q"),
        node("q_b", quantize(), &["b", "sb", "z"], "b_q"),
        node("dq_a", dq(), &["a_q", "sa", "z"], "a_f"),
        node("dq_b", dq(), &["b_q", "sb", "z"], "b_f"),
        node("add", Op::Binary(BinaryOp::Add), &["a_f", "b_f"], "sum"),
        node("q_sum", quantize(), &["sum", "ss", "z"], "sum_q"),
        node("dq_sum", dq(), &["sum_q", "ss", "z"], "sum_f"),
        node("sigmoid", sigmoid, &["sum_f"], "gate"),
        node(
            "silu",
            Op::Binary(BinaryOp::Mul),
            &["sum_f", "gate"],
            "silu",
        ),
        node("q_silu", quantize(), &["silu", "ss", "z"], "silu_q"),
        node("dq_silu", dq(), &["silu_q", "ss", "z"], "silu_f"),
        node("dq_b2", dq(), &["b_q", "sb", "z"], "b_f2"),
        node("cat", Op::Concat { axis: 1 }, &["silu_f", "b_f2"], "joined"),
        node("q_cat", quantize(), &["joined", "sc", "z"], "cat_q"),
    ];
    let zero = match dtype {
        DType::I8 => TensorData::I8(vec![zero_point as i8]),
        _ => TensorData::U8(vec![zero_point as u8]),
    };
    let scalar = |value: f32| HostTensor::from_f32(&[], vec![value]).unwrap();
    let initializers = [
        ("sa", scalar(0.011)),
        ("sb", scalar(0.017)),
        ("ss", scalar(0.02)),
        ("sc", scalar(0.03)),
        ("z", HostTensor::new(&[], zero).unwrap()),
    ];
    Graph {
        inputs: vec![value("a", Some(&SHAPE)), value("b", Some(&SHAPE))],
        outputs: ["sum_q", "silu_q", "cat_q"]
            .map(|name| value(name, None))
            .to_vec(),
        nodes,
        initializers: (initializers.into_iter())
            .map(|(name, tensor)| (name.to_string(), tensor))
            .collect(),
        ..Graph::default()
    }
}

/// The bounds, in steps, on |lowered − unlowered| for the three outputs. The sum: 1 (the bound
/// of `kiln::ops::quantized_elementwise`). SiLU's table is exact, so it differs only where its
/// input does, by at most the table's largest step between adjacent entries. The concat copies
/// nothing it does not requantize: SiLU's part by ratio `ss/sc`, adding one rounding.
fn step_bounds(lowered: &Graph) -> [i64; 3] {
    let table = (lowered.initializers.values())
        .find(|tensor| tensor.shape() == [256])
        .expect("the lowered graph holds SiLU's table");
    let entries = table.to_i64_vec("test").unwrap();
    let table_step = entries
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .max()
        .unwrap();
    let concat = (table_step as f64 * 0.02 / 0.03).ceil() as i64 + 1;
    [1, table_step, concat]
}

fn integers(tensor: &HostTensor) -> Vec<i64> {
    tensor.to_i64_vec("test").unwrap()
}

#[test]
fn a_lowered_element_wise_neck_matches_the_float_path_and_is_the_same_on_cpu_and_gpu() {
    let gpu = Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let cases = [
        (DType::U8, 0),
        (DType::U8, 128),
        (DType::U8, 255),
        (DType::I8, -128),
        (DType::I8, 0),
        (DType::I8, 127),
    ];
    for (seed, (dtype, zero_point)) in (1..).zip(cases) {
        let label = format!("{dtype} zero point {zero_point}");
        let graph = neck(dtype, zero_point);
        let mut rng = SeededRng::new(seed);
        let count: usize = SHAPE.iter().product();
        let inputs = ["a", "b"].map(|name| {
            let values = rng.uniform_vec(count, -2.5, 2.5);
            (
                name.to_string(),
                HostTensor::from_f32(&SHAPE, values).unwrap(),
            )
        });
        let unlowered = run_unlowered(&graph, &inputs);
        let (on_cpu, _) = run_lowered(&graph, &inputs, Backend::Cpu);
        let (on_gpu, _) = run_lowered(&graph, &inputs, Backend::Gpu(&gpu));
        assert_eq!(
            plan_ops(&graph, &inputs),
            [
                "QuantizeLinear",
                "QuantizeLinear",
                "QLinearAdd",
                "LookupTable",
                "QLinearConcat"
            ],
            "{label}: no dequantization left between the layers"
        );
        let shapes: Vec<(String, Vec<usize>)> = (inputs.iter())
            .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
            .collect();
        let plan = Plan::new(&graph, &shapes, Backend::Cpu).unwrap();
        let bounds = step_bounds(plan.graph());
        for (index, ((cpu, gpu), float)) in on_cpu.iter().zip(&on_gpu).zip(&unlowered).enumerate() {
            assert_eq!(cpu.dtype(), dtype, "{label}");
            let (cpu, gpu, float) = (integers(cpu), integers(gpu), integers(float));
            assert_eq!(
                cpu, gpu,
                "{label}: output {index}: the GPU's integers must be the CPU's"
            );
            let worst = (cpu.iter().zip(&float))
                .map(|(a, b)| (a - b).abs())
                .max()
                .unwrap_or(0);
            assert!(
                worst <= bounds[index],
                "{label}: output {index} is {worst} steps from the float path (bound {})",
                bounds[index]
            );
        }
    }
}
