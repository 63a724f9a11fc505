//! `DQ(x_q) → f → Q` ⇒ `LookupTable(x_q, table)`, for any float computation `f` whose only
//! non-constant input is the DQ's output and which is built from element-wise ops: unary ops and
//! activations (Sigmoid, Tanh, LeakyRelu, HardSwish, Gelu, Exp, …), Clip with constant bounds and
//! binary ops whose other operand is a single constant or another value of `f` (SiLU written as
//! `Mul(x, Sigmoid(x))`). Only `f`'s last node may be read outside `f`, by the Q alone.
//!
//! Exact by construction: x_q has 256 possible values, and each output element of `f` depends
//! only on the same element of x, so the table holds, for every value, what kiln's float path
//! computes: the DQ, each node of `f` and the Q evaluated by their own CPU references
//! ([`crate::graph::eval::eval_node`]) on the 256 values.

use super::binary::{per_tensor, quantize_consumer};
use super::dequantize_producer;
use crate::graph::eval::eval_node;
use crate::graph::passes::{initializer, unique_name};
use crate::graph::{Graph, Node, Op};
use crate::tensor::{DType, HostTensor, TensorData};
use std::collections::{BTreeMap, BTreeSet};

/// One chain's lowering: the node indices it replaces (its last node last), its quantized input,
/// the table and the Q's output.
pub(super) struct TableLowering {
    chain: Vec<usize>,
    last: usize,
    q_index: usize,
    input: String,
    x_dtype: DType,
    table: HostTensor,
    output: String,
}

/// Whether `op` may be part of a chain.
fn elementwise(op: &Op) -> bool {
    matches!(op, Op::Unary(_) | Op::Binary(_) | Op::Clip)
}

/// The lowering of the chain ending at the node at `index`, or why it stays float.
pub(super) fn plan(graph: &Graph, index: usize) -> std::result::Result<TableLowering, String> {
    let (q_index, _) = quantize_consumer(graph, &graph.nodes[index])?;
    let chain = collect_chain(graph, index)?;
    let mut sources = BTreeSet::new();
    for &member in &chain {
        for value in graph.nodes[member].inputs.iter().flatten() {
            if let Some(source) = source_input(graph, &chain, value)? {
                sources.insert(source);
            }
        }
    }
    let dq_output = match sources.len() {
        1 => sources.into_iter().next().unwrap_or_default(),
        0 => return Err("it depends on constants only".into()),
        _ => return Err("it reads several DequantizeLinear outputs".into()),
    };
    check_internal_uses(graph, &chain, index)?;
    let (dq, quantized) =
        dequantize_producer(graph, &dq_output).ok_or("its source is not a DequantizeLinear")?;
    let x_dtype = per_tensor(graph, dq, "input")?.dtype;
    let table = evaluate_table(graph, dq, &chain, q_index, x_dtype)?;
    Ok(TableLowering {
        chain,
        last: index,
        q_index,
        input: quantized,
        x_dtype,
        table,
        output: graph.nodes[q_index].outputs[0].clone(),
    })
}

/// The element-wise nodes that `index`'s value is computed from, back to DequantizeLinear outputs
/// and constants; in graph order.
fn collect_chain(graph: &Graph, index: usize) -> std::result::Result<Vec<usize>, String> {
    let mut chain = BTreeSet::from([index]);
    let mut pending = vec![index];
    while let Some(member) = pending.pop() {
        let node = &graph.nodes[member];
        if !elementwise(&node.op) || node.outputs.len() != 1 {
            return Err(format!(
                "'{}' ({}) is not a one-output element-wise op",
                node.name,
                node.op.name()
            ));
        }
        for value in node.inputs.iter().flatten() {
            if constant(graph, value).is_some() || dequantize_producer(graph, value).is_some() {
                continue;
            }
            match graph.producer(value) {
                Some((producer, _)) if chain.insert(producer) => pending.push(producer),
                Some(_) => {}
                None => return Err(format!("it reads the graph input '{value}'")),
            }
        }
    }
    Ok(chain.into_iter().collect())
}

/// `value` when the chain reads it as its quantized source (a non-constant DQ output); `None`
/// for constants and the chain's own values.
fn source_input(
    graph: &Graph,
    chain: &[usize],
    value: &str,
) -> std::result::Result<Option<String>, String> {
    if let Some(tensor) = constant(graph, value) {
        if tensor.len() != 1 || tensor.shape().len() > 1 {
            return Err(format!(
                "its constant '{value}' is not a single value of rank 0 or 1"
            ));
        }
        return Ok(None);
    }
    let produced_inside = graph
        .producer(value)
        .is_some_and(|(producer, _)| chain.contains(&producer));
    Ok((!produced_inside).then(|| value.to_string()))
}

/// The value of `value` when it is an initializer or the DequantizeLinear of initializers.
fn constant(graph: &Graph, value: &str) -> Option<HostTensor> {
    if let Some(tensor) = initializer(graph, Some(value)) {
        return Some(tensor.clone());
    }
    let (dq, _) = dequantize_producer(graph, value)?;
    let inputs: Option<Vec<Option<&HostTensor>>> = dq
        .inputs
        .iter()
        .map(|input| match input {
            None => Some(None),
            Some(name) => initializer(graph, Some(name)).map(Some),
        })
        .collect();
    eval_node(dq, &inputs?).ok()?.into_iter().next()
}

/// Checks that nothing outside the chain reads a value of the chain other than its last node's.
fn check_internal_uses(
    graph: &Graph,
    chain: &[usize],
    last: usize,
) -> std::result::Result<(), String> {
    for &member in chain.iter().filter(|&&member| member != last) {
        let value = &graph.nodes[member].outputs[0];
        let outside = graph.nodes.iter().enumerate().any(|(index, node)| {
            !chain.contains(&index) && node.inputs.iter().flatten().any(|input| input == value)
        });
        if outside || graph.outputs.iter().any(|output| output.name == *value) {
            return Err(format!(
                "the value '{value}' of '{}' is also read outside it",
                graph.nodes[member].name
            ));
        }
    }
    Ok(())
}

/// The table: the DQ, the chain and the Q evaluated by their references on all 256 values.
fn evaluate_table(
    graph: &Graph,
    dq: &Node,
    chain: &[usize],
    q_index: usize,
    x_dtype: DType,
) -> std::result::Result<HostTensor, String> {
    let failed = |error: crate::error::Error| format!("evaluating its table failed: {error}");
    let every_value = match x_dtype {
        DType::I8 => TensorData::I8((-128..=127).collect()),
        _ => TensorData::U8((0..=255).collect()),
    };
    let x = HostTensor::new(&[256], every_value).map_err(failed)?;
    let mut values: BTreeMap<String, HostTensor> = BTreeMap::new();
    let evaluate = |node: &Node,
                    values: &mut BTreeMap<String, HostTensor>,
                    first: Option<&HostTensor>| {
        let inputs: Vec<Option<HostTensor>> = node
            .inputs
            .iter()
            .enumerate()
            .map(|(position, input)| match (position, first, input) {
                (0, Some(first), _) => Some(first.clone()),
                (_, _, None) => None,
                (_, _, Some(name)) => values.get(name).cloned().or_else(|| constant(graph, name)),
            })
            .collect();
        let refs: Vec<Option<&HostTensor>> = inputs.iter().map(Option::as_ref).collect();
        let output = eval_node(node, &refs).map_err(failed)?.swap_remove(0);
        let flat = output.reshaped(&[256]).map_err(failed)?;
        values.insert(node.outputs[0].clone(), flat.clone());
        Ok::<HostTensor, String>(flat)
    };
    evaluate(dq, &mut values, Some(&x))?;
    for &member in chain {
        evaluate(&graph.nodes[member], &mut values, None)?;
    }
    evaluate(&graph.nodes[q_index], &mut values, None)
}

/// Replaces the chain's last node by the LookupTable, removes the chain's other nodes and the Q,
/// and returns the LookupTable's index.
pub(super) fn apply(graph: &mut Graph, lowering: TableLowering) -> usize {
    let last = lowering.last;
    let table = unique_name(graph, &format!("{}::table", graph.nodes[last].name));
    graph.initializers.insert(table.clone(), lowering.table);
    let node = &mut graph.nodes[last];
    node.op = Op::LookupTable {
        x_dtype: lowering.x_dtype,
    };
    node.inputs = vec![Some(lowering.input), Some(table)];
    node.outputs = vec![lowering.output];
    let mut removed: Vec<usize> = lowering
        .chain
        .iter()
        .copied()
        .filter(|&member| member != last)
        .collect();
    removed.push(lowering.q_index);
    removed.sort_unstable_by(|a, b| b.cmp(a));
    for &index in &removed {
        graph.nodes.remove(index);
    }
    last - removed.iter().filter(|&&index| index < last).count()
}
