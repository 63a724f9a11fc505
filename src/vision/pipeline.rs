//! [`Detector`]: a detection model planned once on a backend, then image → letterboxed tensor →
//! inference → decode (on the GPU when the plan runs there, only candidates read back) → NMS →
//! boxes in the image's pixels, with the time each stage took.

use std::time::{Duration, Instant};

use image::RgbImage;

use crate::device::Gpu;
use crate::error::{Error, Result};
use crate::runtime::{gpu::download, Backend, Plan};
use crate::tensor::{DType, GpuTensor, HostTensor, TensorData};
use crate::vision::decode::decode_reference;
use crate::vision::decode_gpu::launch_decode;
use crate::vision::head::Head;
use crate::vision::head_choice::{detect_heads, HeadOptions};
use crate::vision::image::{preprocess, Letterbox};
use crate::vision::model::DetectionModel;
use crate::vision::nms::{non_max_suppression, NmsOptions};
use crate::vision::Detection;

/// Where the heads are decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DecodeDevice {
    /// On the GPU when the plan runs there and the heads are f32 (only candidates are read
    /// back), else on the CPU.
    #[default]
    Auto,
    /// Always the CPU reference (on a GPU plan the whole head outputs are read back).
    Cpu,
}

/// What a [`Detector`] keeps and how it decodes.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorOptions {
    /// Candidates scoring below this are dropped before NMS.
    pub score_threshold: f32,
    /// NMS settings.
    pub nms: NmsOptions,
    /// How heads are found (ignored for heads the model file declares).
    pub heads: HeadOptions,
    /// Where decoding runs.
    pub decode: DecodeDevice,
}

impl Default for DetectorOptions {
    /// Score threshold 0.25, the default NMS, heads from the output shapes, decode where the plan
    /// runs.
    fn default() -> Self {
        DetectorOptions {
            score_threshold: 0.25,
            nms: NmsOptions::default(),
            heads: HeadOptions::default(),
            decode: DecodeDevice::Auto,
        }
    }
}

/// Wall-clock time of each stage of one [`Detector::detect`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimes {
    /// Letterbox and normalisation.
    pub preprocess: Duration,
    /// The network, until its outputs are ready (on the GPU: submitted and finished).
    pub inference: Duration,
    /// Decode and score filtering (GPU kernel to completion, or the CPU reference).
    pub decode: Duration,
    /// Copying results to the host: the candidates after a GPU decode, the head outputs before a
    /// CPU decode of a GPU plan, nothing on the CPU backend.
    pub readback: Duration,
    /// NMS and mapping boxes back to the image.
    pub nms: Duration,
}

impl StageTimes {
    /// The sum of the stages.
    pub fn total(&self) -> Duration {
        self.preprocess + self.inference + self.decode + self.readback + self.nms
    }
}

/// A detection model planned on one backend.
pub struct Detector<'a> {
    plan: Plan<'a>,
    gpu: Option<&'a Gpu>,
    heads: Vec<Head>,
    /// Whether every head output is f32, which the GPU decode kernel reads.
    heads_are_f32: bool,
    input_name: String,
    input_dtype: DType,
    input_size: [u32; 2],
    options: DetectorOptions,
}

impl<'a> Detector<'a> {
    /// Plans `model` on `backend` for one `[1, 3, H, W]` image and finds its heads: those the file
    /// declares, else from the output shapes ([`detect_heads`]; class names from the model's
    /// metadata tell it the class count). A model with no detection head is an
    /// [`Error::Unsupported`].
    pub fn new(
        model: &DetectionModel,
        backend: Backend<'a>,
        options: DetectorOptions,
    ) -> Result<Self> {
        let [width, height] = model.input_size.map(|extent| extent as usize);
        let input_shape = vec![1, 3, height, width];
        let plan = Plan::new(
            &model.graph,
            &[(model.input_name.clone(), input_shape)],
            backend,
        )?;
        let input_dtype = plan
            .input_types()
            .into_iter()
            .find(|(name, _)| *name == model.input_name)
            .map_or(DType::F32, |(_, value_type)| value_type.dtype);
        let output_types = plan.output_types();
        let outputs: Vec<(String, Vec<usize>)> = output_types
            .iter()
            .map(|(name, value_type)| (name.clone(), value_type.shape.clone()))
            .collect();
        let heads = find_heads(model, &outputs, &options.heads)?;
        let heads_are_f32 = heads.iter().all(|head| {
            output_types
                .iter()
                .any(|(name, value_type)| *name == head.output && value_type.dtype == DType::F32)
        });
        let gpu = match backend {
            Backend::Gpu(gpu) => Some(gpu),
            Backend::Cpu => None,
        };
        Ok(Detector {
            plan,
            gpu,
            heads,
            heads_are_f32,
            input_name: model.input_name.clone(),
            input_dtype,
            input_size: model.input_size,
            options,
        })
    }

    /// The heads being decoded.
    pub fn heads(&self) -> &[Head] {
        &self.heads
    }

    /// The network input `[width, height]`.
    pub fn input_size(&self) -> [u32; 2] {
        self.input_size
    }

    /// The detections in `image` (boxes in its pixels, highest score first) and the stage times.
    pub fn detect(&mut self, image: &RgbImage) -> Result<(Vec<Detection>, StageTimes)> {
        let mut times = StageTimes::default();
        let start = Instant::now();
        let (tensor, letterbox) = preprocess(image, self.input_size)?;
        let inputs = [(self.input_name.clone(), self.to_input_dtype(tensor)?)];
        times.preprocess = start.elapsed();
        let candidates = match (self.gpu, self.options.decode) {
            (Some(gpu), DecodeDevice::Auto) if self.heads_are_f32 => {
                self.gpu_decode(gpu, &inputs, &mut times)?
            }
            (Some(gpu), _) => self.read_then_decode(gpu, &inputs, &mut times)?,
            (None, _) => {
                let start = Instant::now();
                let outputs = self.plan.run(&inputs)?;
                times.inference = start.elapsed();
                self.cpu_decode(&outputs, &mut times)?
            }
        };
        let start = Instant::now();
        let detections = self.suppress(candidates, &letterbox);
        times.nms = start.elapsed();
        Ok((detections, times))
    }

    fn to_input_dtype(&self, tensor: HostTensor) -> Result<HostTensor> {
        match self.input_dtype {
            DType::F32 => Ok(tensor),
            DType::F16 => {
                let values = tensor.expect_f32("detect input")?;
                let halves = values.iter().map(|&v| half::f16::from_f32(v)).collect();
                HostTensor::new(tensor.shape(), TensorData::F16(halves))
            }
            other => Err(Error::Unsupported {
                location: format!("model input '{}'", self.input_name),
                detail: format!("an image input of {other}; kiln feeds f32 or f16"),
            }),
        }
    }

    fn head_outputs<'t>(&self, outputs: &'t [(String, GpuTensor)]) -> Result<Vec<&'t GpuTensor>> {
        self.heads
            .iter()
            .map(|head| {
                outputs
                    .iter()
                    .find(|(name, _)| *name == head.output)
                    .map(|(_, tensor)| tensor)
                    .ok_or_else(|| missing_output(head))
            })
            .collect()
    }

    fn gpu_decode(
        &mut self,
        gpu: &Gpu,
        inputs: &[(String, HostTensor)],
        times: &mut StageTimes,
    ) -> Result<Vec<Detection>> {
        let start = Instant::now();
        let outputs = self.plan.run_on_device(inputs)?;
        gpu.synchronize()?;
        times.inference = start.elapsed();
        let start = Instant::now();
        let head_outputs = self.head_outputs(&outputs)?;
        let candidates = launch_decode(
            gpu,
            &self.heads,
            &head_outputs,
            self.options.score_threshold,
        )?;
        gpu.synchronize()?;
        times.decode = start.elapsed();
        let start = Instant::now();
        let found = candidates.read(gpu)?;
        times.readback = start.elapsed();
        Ok(found)
    }

    fn read_then_decode(
        &mut self,
        gpu: &Gpu,
        inputs: &[(String, HostTensor)],
        times: &mut StageTimes,
    ) -> Result<Vec<Detection>> {
        let start = Instant::now();
        let outputs = self.plan.run_on_device(inputs)?;
        gpu.synchronize()?;
        times.inference = start.elapsed();
        let start = Instant::now();
        let host_outputs = self
            .heads
            .iter()
            .zip(self.head_outputs(&outputs)?)
            .map(|(head, tensor)| Ok((head.output.clone(), download(gpu, tensor, tensor.dtype())?)))
            .collect::<Result<Vec<_>>>()?;
        times.readback = start.elapsed();
        self.cpu_decode(&host_outputs, times)
    }

    fn cpu_decode(
        &self,
        outputs: &[(String, HostTensor)],
        times: &mut StageTimes,
    ) -> Result<Vec<Detection>> {
        let start = Instant::now();
        let found = decode_reference(&self.heads, outputs, self.options.score_threshold)?;
        times.decode = start.elapsed();
        Ok(found)
    }

    fn suppress(&self, candidates: Vec<Detection>, letterbox: &Letterbox) -> Vec<Detection> {
        non_max_suppression(candidates, &self.options.nms)
            .into_iter()
            .map(|detection| Detection {
                bbox: letterbox.to_source(detection.bbox),
                ..detection
            })
            .collect()
    }
}

fn missing_output(head: &Head) -> Error {
    Error::InvalidArgument {
        op: "detect",
        detail: format!("the plan produced no output '{}'", head.output),
    }
}

/// The model's declared heads, else the heads [`detect_heads`] finds in the output shapes (told
/// the class count by `names` metadata unless `options` gives one).
fn find_heads(
    model: &DetectionModel,
    outputs: &[(String, Vec<usize>)],
    options: &HeadOptions,
) -> Result<Vec<Head>> {
    if !model.declared_heads.is_empty() {
        return declared_heads(model, outputs);
    }
    let mut options = options.clone();
    if options.classes.is_none() && model.graph.metadata.contains_key("names") {
        options.classes = Some(model.names.len());
    }
    detect_heads(outputs, model.input_size, &options)
}

/// The model's declared heads, checked against the planned output shapes.
fn declared_heads(model: &DetectionModel, outputs: &[(String, Vec<usize>)]) -> Result<Vec<Head>> {
    model
        .declared_heads
        .iter()
        .map(|(name, kind)| {
            let (_, shape) = outputs
                .iter()
                .find(|(output, _)| output == name)
                .ok_or_else(|| Error::InvalidModel {
                    location: format!("head '{name}'"),
                    detail: "is not a graph output".into(),
                })?;
            Head::new(name, shape, kind.clone())
        })
        .collect()
}
