//! The one node loop, generic over the backend ([`Evaluator`]): graph inputs loaded, each node's
//! operands gathered from the live values and the backend's weights, relabels that consume their
//! input take its buffer, observers called with each value they select right after it is made, and
//! values dropped after their last reader (on the GPU this returns their buffers to the pool for
//! the nodes after). Nothing here submits or waits: the GPU backend only records.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::graph::{Graph, Node};
use crate::runtime::plan::observe::{Observed, Observer, Selection};
use crate::runtime::plan::schedule::Schedule;
use crate::tensor::HostTensor;

/// What the node loop needs from a backend.
pub(super) trait Evaluator {
    /// A run-time value: a device tensor, or a host tensor on the CPU.
    type Value;

    /// Loads graph input `name` from the host.
    fn load_input(&self, name: &str, host: &HostTensor) -> Result<Self::Value>;

    /// Evaluates `node`, whose run-time inputs are in `values`.
    fn eval(&self, node: &Node, values: &HashMap<String, Self::Value>) -> Result<Vec<Self::Value>>;

    /// `node`'s output when it relabels `source`, its consumed first input; `values` holds the
    /// other live values.
    fn relabel(
        &self,
        node: &Node,
        source: Self::Value,
        values: &HashMap<String, Self::Value>,
    ) -> Result<Self::Value>;

    /// A graph output that is an initializer, as a value.
    fn constant(&self, host: &HostTensor) -> Result<Self::Value>;

    /// `value`, named `name`, as an observer sees it.
    fn observed<'v>(&'v self, name: &str, value: &'v Self::Value) -> Observed<'v>;

    /// The bytes `value` holds.
    fn bytes(value: &Self::Value) -> u64;
}

/// The graph and schedule a run follows.
pub(super) struct Program<'p> {
    pub graph: &'p Graph,
    pub schedule: &'p Schedule,
}

/// The result of one run: the graph outputs, once per distinct name in first-listed order, and the
/// most bytes of run-time values that were live at once.
pub(super) struct Run<V> {
    pub outputs: Vec<(String, V)>,
    pub peak_bytes: u64,
}

/// Runs `program` on `evaluator` with `inputs` (already checked against the graph's inputs),
/// calling `observer` with the values it selects.
pub(super) fn execute<E: Evaluator>(
    program: &Program<'_>,
    evaluator: &E,
    inputs: &[(String, HostTensor)],
    observer: &mut dyn Observer,
) -> Result<Run<E::Value>> {
    let selection = observer.selection();
    let mut live = Live::<E>::default();
    for (name, host) in inputs {
        let needed = program.schedule.needed_inputs.contains(name);
        if !needed && !selection.contains(name) {
            continue;
        }
        let value = evaluator.load_input(name, host)?;
        if selection.contains(name) {
            observer.observe(name, evaluator.observed(name, &value))?;
        }
        if needed {
            live.insert(name.clone(), value);
        }
    }
    for (step, node) in program.graph.nodes.iter().enumerate() {
        let outputs = if program.schedule.moves[step] {
            let source = live.take(node)?;
            vec![evaluator.relabel(node, source, &live.values)?]
        } else {
            evaluator.eval(node, &live.values)?
        };
        check_output_count(node, outputs.len())?;
        for (name, value) in node.outputs.iter().zip(outputs) {
            if selection.contains(name) {
                observer.observe(name, evaluator.observed(name, &value))?;
            }
            live.insert(name.clone(), value);
        }
        live.note_peak();
        for name in &program.schedule.drops[step] {
            live.remove(name);
        }
    }
    let outputs = collect_outputs(program.graph, &mut live, evaluator)?;
    Ok(Run {
        outputs,
        peak_bytes: live.peak_bytes,
    })
}

/// Checks `selection` against the values of `graph` (its inputs and node outputs).
pub(super) fn check_selection(graph: &Graph, selection: &Selection) -> Result<()> {
    let Selection::Names(names) = selection else {
        return Ok(());
    };
    let values: Vec<&str> = (graph.inputs.iter().map(|input| input.name.as_str()))
        .chain(
            graph
                .nodes
                .iter()
                .flat_map(|node| node.outputs.iter())
                .map(String::as_str),
        )
        .collect();
    match names.iter().find(|name| !values.contains(&name.as_str())) {
        Some(unknown) => Err(Error::InvalidArgument {
            op: "Plan::run_observed",
            detail: format!(
                "'{unknown}' is not a value of the plan's graph (unknown, or removed by the \
                 optimisation passes); its values are {values:?}"
            ),
        }),
        None => Ok(()),
    }
}

/// The live values of a run and the bytes they hold.
struct Live<E: Evaluator> {
    values: HashMap<String, E::Value>,
    bytes: u64,
    peak_bytes: u64,
}

impl<E: Evaluator> Default for Live<E> {
    fn default() -> Self {
        Live {
            values: HashMap::new(),
            bytes: 0,
            peak_bytes: 0,
        }
    }
}

impl<E: Evaluator> Live<E> {
    fn insert(&mut self, name: String, value: E::Value) {
        self.bytes += E::bytes(&value);
        if let Some(replaced) = self.values.insert(name, value) {
            self.bytes -= E::bytes(&replaced);
        }
        self.note_peak();
    }

    fn remove(&mut self, name: &str) -> Option<E::Value> {
        let value = self.values.remove(name)?;
        self.bytes -= E::bytes(&value);
        Some(value)
    }

    fn note_peak(&mut self) {
        self.peak_bytes = self.peak_bytes.max(self.bytes);
    }

    /// Removes and returns the first input of a relabelling `node`, which the schedule moves.
    fn take(&mut self, node: &Node) -> Result<E::Value> {
        let name = node.input(0).unwrap_or_default();
        self.remove(name).ok_or_else(|| not_live(node, name))
    }
}

/// The live value `name` that `node` reads.
pub(super) fn live<'v, T>(
    values: &'v HashMap<String, T>,
    node: &Node,
    name: &str,
) -> Result<&'v T> {
    values.get(name).ok_or_else(|| not_live(node, name))
}

/// The error for `node` reading `name` when it is not live.
pub(super) fn not_live(node: &Node, name: &str) -> Error {
    Error::InvalidModel {
        location: node.location(),
        detail: format!("reads '{name}', which is not live at this point of the plan"),
    }
}

fn check_output_count(node: &Node, produced: usize) -> Result<()> {
    if produced == node.outputs.len() {
        return Ok(());
    }
    Err(Error::InvalidModel {
        location: node.location(),
        detail: format!(
            "produced {produced} outputs, the node lists {}",
            node.outputs.len()
        ),
    })
}

/// The graph outputs, once per distinct name in first-listed order: live values, or initializers
/// loaded by the evaluator.
fn collect_outputs<E: Evaluator>(
    graph: &Graph,
    live: &mut Live<E>,
    evaluator: &E,
) -> Result<Vec<(String, E::Value)>> {
    let mut outputs: Vec<(String, E::Value)> = Vec::new();
    for output in &graph.outputs {
        let name = &output.name;
        if outputs.iter().any(|(collected, _)| collected == name) {
            continue;
        }
        let value = match (live.remove(name), graph.initializers.get(name)) {
            (Some(value), _) => value,
            (None, Some(host)) => evaluator.constant(host)?,
            (None, None) => {
                return Err(Error::InvalidModel {
                    location: format!("graph output '{name}'"),
                    detail: "was not computed by the plan".into(),
                })
            }
        };
        outputs.push((name.clone(), value));
    }
    Ok(outputs)
}
