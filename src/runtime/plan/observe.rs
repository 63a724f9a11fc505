//! Observers: a caller's hook into a run that sees intermediate values as they are produced.
//!
//! [`crate::runtime::Plan::run_observed`] calls an [`Observer`] with every value it asks for (every
//! value, or a named set: [`Selection`]) right after the node that makes it has run, and with the
//! graph inputs once they are loaded, before the executor drops anything. The value is the
//! backend's own ([`Observed`]): a tensor on the device, which the observer may read back or keep
//! using on the GPU (calibration reduces histograms there), or the CPU reference's host tensor.
//! The executor keeps nothing alive for an observer: a value dies after its last reader whether or
//! not it was observed, so an observer that needs a value later copies it ([`CollectToHost`]).
//!
//! An observer can be a plain closure (it sees every value) or one limited to some names:
//!
//! ```
//! use kiln::runtime::{observe_only, CollectToHost, Observed, Selection};
//! let mut shapes = Vec::new();
//! let _every_value = |name: &str, value: Observed<'_>| {
//!     shapes.push((name.to_string(), value.shape().to_vec()));
//!     Ok::<(), kiln::Error>(())
//! };
//! let _two_values = observe_only(["conv1", "relu1"], |_: &str, _: Observed<'_>| Ok(()));
//! let _collect = CollectToHost::new(Selection::All);
//! ```

use std::collections::BTreeSet;

use crate::device::Gpu;
use crate::error::Result;
use crate::runtime::gpu;
use crate::tensor::{DType, GpuTensor, HostTensor};

/// Which values an [`Observer`] wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every graph input and every node output.
    All,
    /// These values only; a name that is not a value of the plan's graph (unknown, or removed by
    /// the optimisation passes) makes the run an error that lists the plan's values.
    Names(BTreeSet<String>),
}

impl Selection {
    /// A selection of `names`.
    pub fn names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Selection::Names(names.into_iter().map(Into::into).collect())
    }

    /// Whether the value `name` is selected.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Names(names) => names.contains(name),
        }
    }
}

/// One observed value, as the backend holds it.
pub enum Observed<'v> {
    /// A tensor on the GPU; the work that makes it is recorded, not necessarily submitted.
    Gpu {
        /// The device it lives on.
        device: &'v Gpu,
        /// The value.
        tensor: &'v GpuTensor,
        /// Its dtype in the graph (ArgMax's i64 indices are i32 on the device).
        dtype: DType,
    },
    /// A host tensor of the CPU reference backend.
    Host(&'v HostTensor),
}

impl Observed<'_> {
    /// The value's shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Observed::Gpu { tensor, .. } => tensor.shape(),
            Observed::Host(tensor) => tensor.shape(),
        }
    }

    /// The value on the host in its graph dtype. On the GPU this submits the work recorded so far
    /// and waits for it, so it costs a synchronization per value.
    pub fn to_host(&self) -> Result<HostTensor> {
        match self {
            Observed::Gpu {
                device,
                tensor,
                dtype,
            } => gpu::download(device, tensor, *dtype),
            Observed::Host(tensor) => Ok((*tensor).clone()),
        }
    }
}

/// A hook that a run calls with each value it [selects](Observer::selection).
pub trait Observer {
    /// The values this observer wants; every value unless overridden.
    fn selection(&self) -> Selection {
        Selection::All
    }

    /// Called once per selected value, right after it is produced (graph inputs: after they are
    /// loaded). An error stops the run and is returned from it.
    fn observe(&mut self, name: &str, value: Observed<'_>) -> Result<()>;
}

impl<F: FnMut(&str, Observed<'_>) -> Result<()>> Observer for F {
    fn observe(&mut self, name: &str, value: Observed<'_>) -> Result<()> {
        self(name, value)
    }
}

/// A closure observer limited to a named set ([`observe_only`]).
pub struct ObserveOnly<F> {
    selection: Selection,
    observe: F,
}

/// An observer that calls `observe` with the values named in `names` only.
pub fn observe_only<S, F>(names: impl IntoIterator<Item = S>, observe: F) -> ObserveOnly<F>
where
    S: Into<String>,
    F: FnMut(&str, Observed<'_>) -> Result<()>,
{
    ObserveOnly {
        selection: Selection::names(names),
        observe,
    }
}

impl<F: FnMut(&str, Observed<'_>) -> Result<()>> Observer for ObserveOnly<F> {
    fn selection(&self) -> Selection {
        self.selection.clone()
    }

    fn observe(&mut self, name: &str, value: Observed<'_>) -> Result<()> {
        (self.observe)(name, value)
    }
}

/// An observer that reads every selected value back to the host, in the order they are produced.
pub struct CollectToHost {
    selection: Selection,
    /// The values collected so far, by name, in production order.
    pub values: Vec<(String, HostTensor)>,
}

impl CollectToHost {
    /// A collector of the values in `selection`.
    pub fn new(selection: Selection) -> Self {
        CollectToHost {
            selection,
            values: Vec::new(),
        }
    }

    /// The collected value `name`, if it was observed.
    pub fn get(&self, name: &str) -> Option<&HostTensor> {
        (self.values.iter())
            .find(|(observed, _)| observed == name)
            .map(|(_, tensor)| tensor)
    }
}

impl Observer for CollectToHost {
    fn selection(&self) -> Selection {
        self.selection.clone()
    }

    fn observe(&mut self, name: &str, value: Observed<'_>) -> Result<()> {
        self.values.push((name.to_string(), value.to_host()?));
        Ok(())
    }
}
