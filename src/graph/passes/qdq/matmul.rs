//! `DQ(x_q), DQ(w_q) → MatMul → [Relu] → Q` and `DQ(x_q), DQ(w_q), [DQ(b_q)] → Gemm → [Relu] → Q`
//! ⇒ `QLinearMatMul(x_q, …, w_q, …, y_scale, y_zp, [b_q])`.
//!
//! What makes it exact: with `x = (x_q − x_zp)·x_scale`, `w = (w_q − w_zp[n])·w_scale[n]` (int8 or
//! uint8, one scale and zero point or one per output column) and `b = b_q·x_scale·w_scale[n]`, the
//! float product equals `acc·x_scale·w_scale[n]` for the integer accumulator `acc = Σ_k (x_q −
//! x_zp)·(w_q − w_zp[n]) + b_q[n]`, and the Q after it computes `saturate(round(acc·x_scale·
//! w_scale[n] / y_scale) + y_zp)`, which QLinearMatMul computes from the accumulator with the
//! multiplier `x_scale·w_scale[n]/y_scale` in f32. The two differ only in where f32 rounds (the
//! float path rounds every partial sum, the integer path only the final product), so by at most
//! one output step where a value lies near a rounding boundary. A Relu before the Q is a clamp at
//! `y_zp`, fused as QLinearMatMul's `Relu` activation.
//!
//! Representation of a Gemm: ONNX's QLinearMatMul has neither a bias nor `transB`, so the lowering
//! transposes a `transB` weight once into a new `[K, N]` initializer (its per-row scales become
//! per-column ones: the same vectors) and passes the int32 bias as a ninth input, kiln's
//! extension; export writes the node back as `DQ → MatMul → [Add] → [Relu] → Q`
//! (`src/import/onnx/export/qlinear_matmul.rs`), so the exported model stays standard ONNX.

use super::conv::{activation_quantization, bias_input, output_quantize};
use super::{dequantize_producer, quantization_of, Quantization};
use crate::error::{Error, Result};
use crate::graph::passes::{initializer, unique_name};
use crate::graph::{Graph, Node, Op};
use crate::ops::matmul::int8::MAX_K;
use crate::ops::Activation;
use crate::tensor::{DType, HostTensor, TensorData};

/// One MatMul's or Gemm's lowering, decided.
pub(super) struct MatmulLowering {
    inputs: Vec<Option<String>>,
    synthesized: Vec<(String, HostTensor)>,
    relu: bool,
    output: String,
    replaced: Vec<usize>,
}

/// A reason a MatMul or Gemm stays in float.
type Refusal = std::result::Result<MatmulLowering, String>;

/// How the weight is laid out: `[K, N]` (MatMul, Gemm) or `[N, K]` (Gemm with `transB`).
#[derive(Clone, Copy, PartialEq)]
enum WeightLayout {
    KByN,
    NByK,
}

/// The lowering of the MatMul or Gemm at `index`, or why it stays float.
pub(super) fn plan(graph: &Graph, index: usize) -> Result<Refusal> {
    let node = &graph.nodes[index];
    let layout = match &node.op {
        Op::MatMul {
            activation: Activation::Identity,
        } => WeightLayout::KByN,
        Op::Gemm {
            alpha,
            beta,
            trans_a: false,
            trans_b,
            activation: Activation::Identity,
        } if *alpha == 1.0 && (*beta == 1.0 || node.input(2).is_none()) => {
            if *trans_b {
                WeightLayout::NByK
            } else {
                WeightLayout::KByN
            }
        }
        Op::Gemm { .. } => {
            return Ok(Err(
                "its Gemm has transA, alpha ≠ 1, beta ≠ 1 or a fused activation".into(),
            ))
        }
        _ => return Ok(Err("it has a fused activation".into())),
    };
    if node.outputs.len() != 1 {
        return Ok(Err("it has several outputs".into()));
    }
    Ok(plan_product(graph, node, layout))
}

fn plan_product(graph: &Graph, node: &Node, layout: WeightLayout) -> Refusal {
    let (x_dq, x_q) = node
        .input(0)
        .and_then(|x| dequantize_producer(graph, x))
        .ok_or("its input is not a DequantizeLinear output")?;
    let x_quant = activation_quantization(graph, x_dq, "input")?;
    let (w_dq, w_q) = node
        .input(1)
        .and_then(|w| dequantize_producer(graph, w))
        .ok_or("its weight is not a DequantizeLinear output")?;
    let weight = initializer(graph, Some(&w_q))
        .filter(|w| matches!(w.dtype(), DType::I8 | DType::U8) && w.shape().len() == 2)
        .ok_or("its weight is not a 2-D int8 or uint8 initializer")?;
    let (k, n) = match layout {
        WeightLayout::KByN => (weight.shape()[0], weight.shape()[1]),
        WeightLayout::NByK => (weight.shape()[1], weight.shape()[0]),
    };
    let w_quant = quantization_of(graph, w_dq, Some(weight))?;
    check_weight(&w_quant, n, layout)?;
    if k > MAX_K {
        return Err(format!("its reduction {k} exceeds {MAX_K}"));
    }
    let bias = match node.input(2) {
        None => None,
        Some(b) => Some(bias_input(graph, b, &x_quant, &w_quant, n)?),
    };
    let (relu, q, replaced) = output_quantize(graph, node)?;
    let mut synthesized = Vec::new();
    let mut synthesize = |base: &str, tensor: Result<HostTensor>| {
        let name = unique_name(graph, &format!("{}::{base}", node.name));
        let tensor = tensor.map_err(|error| error.to_string())?;
        synthesized.push((name.clone(), tensor));
        Ok::<String, String>(name)
    };
    let w_input = match layout {
        WeightLayout::KByN => w_q,
        WeightLayout::NByK => synthesize("weight_k_by_n", transposed(weight))?,
    };
    let w_zero_point = match w_dq.input(2) {
        Some(name) => name.to_string(),
        None => synthesize("w_zero_point", zeros(weight.dtype(), w_quant.scales.len()))?,
    };
    let input = |node: &Node, index: usize| node.input(index).map(str::to_string);
    let inputs = vec![
        Some(x_q),
        input(x_dq, 1),
        input(x_dq, 2),
        Some(w_input),
        input(w_dq, 1),
        Some(w_zero_point),
        input(q, 1),
        input(q, 2),
        bias,
    ];
    Ok(MatmulLowering {
        inputs,
        synthesized,
        relu,
        output: q.outputs[0].clone(),
        replaced,
    })
}

/// One scale and zero point, or one of each per output column (the weight's `N` axis).
fn check_weight(
    quant: &Quantization,
    n: usize,
    layout: WeightLayout,
) -> std::result::Result<(), String> {
    let column_axis = match layout {
        WeightLayout::KByN => matches!(quant.axis, 1 | -1),
        WeightLayout::NByK => matches!(quant.axis, 0 | -2),
    };
    let per_tensor = quant.scales.len() == 1 && quant.zero_points.len() == 1;
    let per_column = quant.scales.len() == n && quant.zero_points.len() == n && column_axis;
    if !(per_tensor || per_column) {
        return Err("its weight quantization is neither per-tensor nor per output column".into());
    }
    Ok(())
}

/// `[N, K]` int8 or uint8 `weight` as `[K, N]`.
fn transposed(weight: &HostTensor) -> Result<HostTensor> {
    let (rows, cols) = (weight.shape()[0], weight.shape()[1]);
    let at = |index: usize| (index % rows) * cols + index / rows;
    let data = match weight.data() {
        TensorData::I8(values) => {
            TensorData::I8((0..values.len()).map(|i| values[at(i)]).collect())
        }
        TensorData::U8(values) => {
            TensorData::U8((0..values.len()).map(|i| values[at(i)]).collect())
        }
        _ => {
            return Err(Error::InvalidArgument {
                op: "lower_qdq",
                detail: format!("a {} weight is not int8 or uint8", weight.dtype()),
            })
        }
    };
    HostTensor::new(&[cols, rows], data)
}

/// Zero points of `dtype` (int8 or uint8) shaped like `count` scales: a scalar for one, `[count]`
/// otherwise (ONNX requires a per-axis zero point to have its scale's shape).
fn zeros(dtype: DType, count: usize) -> Result<HostTensor> {
    let data = if dtype == DType::U8 {
        TensorData::U8(vec![0; count])
    } else {
        TensorData::I8(vec![0; count])
    };
    let shape = if count == 1 { vec![] } else { vec![count] };
    HostTensor::new(&shape, data)
}

/// Replaces the MatMul or Gemm at `index` by its QLinearMatMul and removes the Relu and Q it
/// absorbs.
pub(super) fn apply(graph: &mut Graph, index: usize, lowering: MatmulLowering) {
    let activation = if lowering.relu {
        Activation::Relu
    } else {
        Activation::Identity
    };
    graph.initializers.extend(lowering.synthesized);
    let product = &mut graph.nodes[index];
    product.op = Op::QLinearMatMul { activation };
    product.inputs = lowering.inputs;
    while product.inputs.last().is_some_and(Option::is_none) {
        product.inputs.pop();
    }
    product.outputs = vec![lowering.output];
    let mut replaced = lowering.replaced;
    replaced.sort_unstable_by(|a, b| b.cmp(a));
    for removed in replaced {
        graph.nodes.remove(removed);
    }
}
