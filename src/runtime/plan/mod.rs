//! The execution plan: built once per model and input shapes, then run many times.
//!
//! [`Plan::new`] clones the graph, runs the optimisation passes with the input shapes bound
//! ([`crate::graph::passes::optimize`]), infers every value's type ([`infer_types`]), plans buffers
//! by liveness (each run-time value is dropped after its last reader, so the device's buffer pool
//! recycles it for a later node; [`Plan::peak_bytes`]) and, on the GPU, uploads every initializer
//! a kernel reads as a tensor once. Initializers that set kernel parameters (shapes, axes, scales)
//! stay on the host.
//!
//! [`Plan::run`] checks the inputs against the bound shapes, uploads them, records every node's
//! dispatches into the device's one pending command encoder and reads the outputs back at the end:
//! nothing in the node loop reads or synchronizes, so the first readback submits the whole run as
//! one command buffer (each further output adds one small copy-and-read submission). Reuse of a
//! dropped buffer within that encoder is ordered because every upload is recorded in the same
//! encoder (see [`crate::device::BufferPool`]).
//!
//! Packed weights ([`crate::graph::PackedWeight`]) are prepared once here too: uploaded in their
//! layout on the GPU ([`crate::runtime::gpu::packed`]), dequantized to their dense meaning on the
//! CPU reference backend. A QLinearConv's int8 weight is likewise put in its kernel's layout and
//! uploaded once.
//!
//! Pipelines compile on first use and are cached by program and constants, so the first run
//! compiles every kernel the model needs and later runs only record; [`Plan::warm_up`] does that
//! first run on zeros.
//!
//! The same plan runs on [`Backend::Cpu`], which evaluates each node with the CPU reference
//! ([`crate::runtime::cpu::eval_node`]) in the same order, with the same drops and moves: both
//! backends go through one node loop ([`execute`]), and so does [`crate::runtime::cpu::run_graph`],
//! which runs a graph as given (no passes, no inferred types). [`Plan::run_observed`] hands any
//! intermediate value to an [`Observer`] as it is produced ([`observe`]).

mod backends;
mod execute;
mod observe;
#[cfg(test)]
mod scaling_tests;
mod schedule;

pub use observe::{observe_only, CollectToHost, ObserveOnly, Observed, Observer, Selection};

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::graph::infer::{infer_types, ValueType};
use crate::graph::{passes, Graph};
use crate::ops::conv::GpuQ8ConvWeights;
use crate::runtime::gpu;
use crate::runtime::gpu::packed::{upload_packed, DeviceWeight};
use crate::tensor::{DType, GpuTensor, HostTensor};
use backends::{
    dequantize_packed, upload_qlinear_weights, upload_weights, CpuEvaluator, GpuEvaluator,
};
use execute::{check_selection, execute, Program, Run};
use schedule::Schedule;

/// Where a [`Plan`] runs.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    /// The wgpu kernels on this device.
    Gpu(&'a Gpu),
    /// The CPU reference backend.
    Cpu,
}

/// A graph specialised to fixed input shapes, ready to run repeatedly on one backend.
///
/// ```no_run
/// use kiln::device::Gpu;
/// use kiln::runtime::{Backend, Plan};
/// use kiln::tensor::{DType, HostTensor};
/// # fn main() -> kiln::Result<()> {
/// # let graph = kiln::graph::Graph::default();
/// let gpu = Gpu::from_env()?;
/// let mut plan = Plan::new(&graph, &[("images".into(), vec![1, 3, 224, 224])], Backend::Gpu(&gpu))?;
/// plan.warm_up()?; // compiles every pipeline the model uses
/// let image = HostTensor::zeros(&[1, 3, 224, 224], DType::F32)?;
/// let outputs = plan.run(&[("images".into(), image)])?;
/// println!("{} outputs, peak {} bytes of activations", outputs.len(), plan.peak_bytes());
/// # Ok(()) }
/// ```
pub struct Plan<'a> {
    graph: Graph,
    types: BTreeMap<String, ValueType>,
    backend: Backend<'a>,
    schedule: Schedule,
    /// Initializers uploaded once, by name and the dtype the GPU backend reads them in.
    weights: HashMap<(String, DType), GpuTensor>,
    /// Packed weights on the GPU, uploaded once in the layout their readers run.
    packed_on_device: HashMap<String, DeviceWeight>,
    /// QLinearConv weights on the GPU in the int8 kernel's layout, by node name.
    qlinear_weights: HashMap<String, GpuQ8ConvWeights>,
    /// Packed weights dequantized once for the CPU reference backend.
    packed_on_host: HashMap<String, HostTensor>,
    /// The most bytes of run-time values the last run held at once, measured in the node loop.
    measured_peak_bytes: u64,
    /// What the optimisation passes did to the graph.
    pass_report: passes::PassReport,
}

impl<'a> Plan<'a> {
    /// Optimises a copy of `graph` for inputs of `input_shapes` (inputs whose declared shape is
    /// fully fixed may be left out), infers every value's type, schedules buffers and, on the GPU,
    /// uploads the weights. A parameter the GPU needs as a constant (a Reshape shape, Slice
    /// starts, ...) that is computed at run time is an [`Error::Unsupported`] here.
    pub fn new(
        graph: &Graph,
        input_shapes: &[(String, Vec<usize>)],
        backend: Backend<'a>,
    ) -> Result<Self> {
        Self::with_passes(
            graph,
            input_shapes,
            backend,
            &passes::PassOptions::default(),
        )
    }

    /// [`Plan::new`] with the optional passes chosen by `options` (e.g. QDQ lowering off, to run
    /// a quantized model's float path).
    pub fn with_passes(
        graph: &Graph,
        input_shapes: &[(String, Vec<usize>)],
        backend: Backend<'a>,
        options: &passes::PassOptions,
    ) -> Result<Self> {
        graph.validate()?;
        let mut graph = graph.clone();
        let (pass_report, _) = passes::optimize_with(&mut graph, input_shapes, options)?;
        let types = infer_types(&graph, input_shapes)?;
        check_unique_outputs(&graph)?;
        let schedule = Schedule::new(&graph, &types)?;
        let (weights, packed_on_device, qlinear_weights, packed_on_host) = match backend {
            Backend::Gpu(device) => (
                upload_weights(device, &graph)?,
                upload_packed(device, &graph)?,
                upload_qlinear_weights(device, &graph)?,
                HashMap::new(),
            ),
            Backend::Cpu => (
                HashMap::new(),
                HashMap::new(),
                HashMap::new(),
                dequantize_packed(&graph)?,
            ),
        };
        Ok(Plan {
            graph,
            types,
            backend,
            schedule,
            weights,
            packed_on_device,
            qlinear_weights,
            packed_on_host,
            measured_peak_bytes: 0,
            pass_report,
        })
    }

    /// Runs the plan on `inputs` (one per graph input, by name, of the bound dtype and shape) and
    /// returns the graph's outputs in order, read back to the host.
    pub fn run(&mut self, inputs: &[(String, HostTensor)]) -> Result<Vec<(String, HostTensor)>> {
        self.run_observed(inputs, &mut Unobserved)
    }

    /// [`Plan::run`], calling `observer` with each value it [selects](Observer::selection) right
    /// after it is produced (graph inputs once loaded), on the backend's own value. Observing keeps
    /// no value alive longer. A selected name that is not a value of the plan's graph
    /// ([`Plan::graph`]: unknown, or removed by the passes) is an [`Error::InvalidArgument`]
    /// listing the values, before anything runs.
    ///
    /// ```no_run
    /// # fn main() -> kiln::Result<()> {
    /// # let (graph, image) = (kiln::graph::Graph::default(), kiln::tensor::HostTensor::zeros(&[1], kiln::tensor::DType::F32)?);
    /// use kiln::runtime::{Backend, CollectToHost, Plan, Selection};
    /// let mut plan = Plan::new(&graph, &[], Backend::Cpu)?;
    /// let mut features = CollectToHost::new(Selection::names(["backbone_out"]));
    /// plan.run_observed(&[("images".into(), image)], &mut features)?;
    /// println!("{:?}", features.get("backbone_out").map(|t| t.shape().to_vec()));
    /// # Ok(()) }
    /// ```
    pub fn run_observed(
        &mut self,
        inputs: &[(String, HostTensor)],
        observer: &mut dyn Observer,
    ) -> Result<Vec<(String, HostTensor)>> {
        match self.backend {
            Backend::Gpu(device) => {
                let outputs = self.run_gpu(device, inputs, observer)?;
                (outputs.into_iter())
                    .map(|(name, tensor)| {
                        let dtype = self.types.get(&name).map_or(tensor.dtype(), |t| t.dtype);
                        Ok((name, gpu::download(device, &tensor, dtype)?))
                    })
                    .collect()
            }
            Backend::Cpu => {
                self.check_inputs(inputs)?;
                check_selection(&self.graph, &observer.selection())?;
                let evaluator = CpuEvaluator {
                    graph: &self.graph,
                    packed: &self.packed_on_host,
                };
                self.finish(execute(&self.program(), &evaluator, inputs, observer)?)
            }
        }
    }

    /// [`Plan::run`] without the readback: the outputs stay on the GPU (the work is recorded, not
    /// yet submitted). ArgMax's i64 indices stay i32 there. An error on [`Backend::Cpu`].
    pub fn run_on_device(
        &mut self,
        inputs: &[(String, HostTensor)],
    ) -> Result<Vec<(String, GpuTensor)>> {
        match self.backend {
            Backend::Gpu(device) => self.run_gpu(device, inputs, &mut Unobserved),
            Backend::Cpu => Err(Error::InvalidArgument {
                op: "Plan::run_on_device",
                detail: "the plan runs on the CPU backend; use Plan::run".into(),
            }),
        }
    }

    /// Records the whole run on `device`, the outputs left there.
    fn run_gpu(
        &mut self,
        device: &Gpu,
        inputs: &[(String, HostTensor)],
        observer: &mut dyn Observer,
    ) -> Result<Vec<(String, GpuTensor)>> {
        self.check_inputs(inputs)?;
        check_selection(&self.graph, &observer.selection())?;
        let evaluator = GpuEvaluator {
            device,
            graph: &self.graph,
            types: &self.types,
            weights: &self.weights,
            packed: &self.packed_on_device,
            qlinear_weights: &self.qlinear_weights,
        };
        let run = execute(&self.program(), &evaluator, inputs, observer)?;
        self.finish(run)
    }

    fn program(&self) -> Program<'_> {
        Program {
            graph: &self.graph,
            schedule: &self.schedule,
        }
    }

    /// Keeps a run's measured peak and returns its outputs.
    fn finish<V>(&mut self, run: Run<V>) -> Result<Vec<(String, V)>> {
        self.measured_peak_bytes = run.peak_bytes;
        Ok(run.outputs)
    }

    /// Runs once on zeros, so that every pipeline the model uses is compiled and cached; later
    /// runs only record and submit.
    pub fn warm_up(&mut self) -> Result<()> {
        let zeros = self
            .input_types()
            .into_iter()
            .map(|(name, value_type)| {
                Ok((
                    name,
                    HostTensor::zeros(&value_type.shape, value_type.dtype)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.run(&zeros).map(|_| ())
    }

    /// The most bytes of run-time values (graph inputs and node outputs, by their inferred types;
    /// weights excluded) live at once under this plan's drops and moves. The device's buffer pool
    /// rounds each buffer up to its size class, so the memory it holds is at most a quarter more.
    pub fn peak_bytes(&self) -> u64 {
        self.schedule.peak_bytes
    }

    /// The most bytes of run-time values the last run actually held at once, counted in the node
    /// loop as values are made and dropped (0 before the first run). It equals
    /// [`Plan::peak_bytes`] when the backend holds each value in its inferred dtype, observed or
    /// not.
    pub fn measured_peak_bytes(&self) -> u64 {
        self.measured_peak_bytes
    }

    /// The optimised graph the plan runs.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// What the optimisation passes did when the plan was built (e.g. how many nodes the QDQ
    /// lowering made integer).
    pub fn pass_report(&self) -> &passes::PassReport {
        &self.pass_report
    }

    /// The number of nodes the plan runs.
    pub fn node_count(&self) -> usize {
        self.graph.nodes.len()
    }

    /// The graph inputs' names and bound types, in graph order.
    pub fn input_types(&self) -> Vec<(String, ValueType)> {
        self.typed(self.graph.inputs.iter().map(|input| &input.name))
    }

    /// The graph outputs' names and types, in graph order.
    pub fn output_types(&self) -> Vec<(String, ValueType)> {
        self.typed(self.graph.outputs.iter().map(|output| &output.name))
    }

    fn typed<'n>(&self, names: impl Iterator<Item = &'n String>) -> Vec<(String, ValueType)> {
        names
            .filter_map(|name| Some((name.clone(), self.types.get(name)?.clone())))
            .collect()
    }

    /// Every graph input given once, by name, with the bound dtype and shape.
    fn check_inputs(&self, inputs: &[(String, HostTensor)]) -> Result<()> {
        let expected = self.input_types();
        let invalid = |detail: String| Error::InvalidArgument {
            op: "Plan::run",
            detail,
        };
        let mut seen = HashSet::new();
        for (name, tensor) in inputs {
            let Some((_, bound)) = expected.iter().find(|(input, _)| input == name) else {
                let names: Vec<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
                return Err(invalid(format!(
                    "'{name}' is not an input of the graph (its inputs: {names:?})"
                )));
            };
            if !seen.insert(name) {
                return Err(invalid(format!("input '{name}' is given twice")));
            }
            if tensor.dtype() != bound.dtype {
                return Err(invalid(format!(
                    "input '{name}' is {}, the graph declares {}",
                    tensor.dtype(),
                    bound.dtype
                )));
            }
            if tensor.shape() != bound.shape {
                return Err(Error::ShapeMismatch {
                    op: "Plan::run",
                    detail: format!(
                        "input '{name}' has shape {:?} but the plan is bound to {:?}; build a \
                         Plan for each input shape",
                        tensor.shape(),
                        bound.shape
                    ),
                });
            }
        }
        if let Some((missing, _)) = expected.iter().find(|(name, _)| !seen.contains(name)) {
            return Err(invalid(format!("input '{missing}' is missing")));
        }
        Ok(())
    }
}

/// Runs `graph` as given (no passes, no inferred types, every node evaluated by the CPU reference)
/// on `inputs`, already checked against the graph's declarations: [`crate::runtime::cpu::run_graph`].
/// Returns the outputs once per distinct name.
pub(crate) fn run_as_given(
    graph: &Graph,
    inputs: &[(String, HostTensor)],
) -> Result<Vec<(String, HostTensor)>> {
    let schedule = Schedule::as_given(graph)?;
    let program = Program {
        graph,
        schedule: &schedule,
    };
    let packed = dequantize_packed(graph)?;
    let evaluator = CpuEvaluator {
        graph,
        packed: &packed,
    };
    let run = execute(&program, &evaluator, inputs, &mut Unobserved)?;
    Ok(run.outputs)
}

/// The observer of a plain run: it selects nothing.
struct Unobserved;

impl Observer for Unobserved {
    fn selection(&self) -> Selection {
        Selection::Names(Default::default())
    }

    fn observe(&mut self, _name: &str, _value: Observed<'_>) -> Result<()> {
        Ok(())
    }
}

/// Graph outputs named twice cannot each own their tensor.
fn check_unique_outputs(graph: &Graph) -> Result<()> {
    let mut seen = HashSet::new();
    match graph
        .outputs
        .iter()
        .find(|output| !seen.insert(&output.name))
    {
        Some(output) => Err(Error::InvalidModel {
            location: format!("graph output '{}'", output.name),
            detail: "is listed twice".into(),
        }),
        None => Ok(()),
    }
}
