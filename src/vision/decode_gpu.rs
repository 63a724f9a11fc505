//! The GPU decode: `shaders/detect_decode.wgsl` runs one thread per candidate of each head and
//! appends the candidates that reach the score threshold to one compact record buffer with an
//! atomic count. Only the count and those records are read back: a few hundred boxes instead of
//! every head value. [`crate::vision::decode_reference`] is the specification it matches.

use crate::device::{Binding, Gpu, GpuBuffer, ShaderProgram};
use crate::error::{Error, Result};
use crate::ops::grid::{grid_for, ELEMENTWISE_WORKGROUP};
use crate::ops::layout::slice;
use crate::ops::matmul::tiled::to_u32;
use crate::tensor::{DType, GpuTensor};
use crate::vision::head::{GridDecode, Head, HeadKind};
use crate::vision::{BoundingBox, Detection};

/// The decode kernel.
pub const DETECT_DECODE: ShaderProgram = ShaderProgram {
    name: "detect_decode",
    parts: &[include_str!("../../shaders/detect_decode.wgsl")],
    needs_f16: false,
};

/// Floats per candidate record: x1, y1, x2, y2, score, class, candidate index, padding.
const RECORD_FLOATS: usize = 8;

/// Candidate and class indices travel as f32, exact below 2²⁴.
const MAX_EXACT_INDEX: usize = 1 << 24;

/// `DecodeParams` in `detect_decode.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DecodeParams {
    candidates: u32,
    cells: u32,
    grid_width: u32,
    classes: u32,
    anchor_stride: u32,
    cell_stride: u32,
    value_stride: u32,
    first_candidate: u32,
    kind: u32,
    first_class: u32,
    score_threshold: f32,
    scale_x_y: f32,
    stride_x: f32,
    stride_y: f32,
    pad: [u32; 2],
}

impl DecodeParams {
    fn of(head: &Head, first_candidate: usize, score_threshold: f32) -> Result<Self> {
        let layout = head.layout;
        let (kind, scale_x_y, stride) = match &head.kind {
            HeadKind::AnchorGrid { decode, stride, .. } => match decode {
                GridDecode::Darknet { scale_x_y } => (0, *scale_x_y, *stride),
                GridDecode::Yolov5 => (1, 1.0, *stride),
            },
            HeadKind::Boxes { .. } => (2, 1.0, [1.0, 1.0]),
        };
        Ok(DecodeParams {
            candidates: to_u32("decode candidates", layout.candidates)?,
            cells: to_u32("decode cells", layout.cells)?,
            grid_width: to_u32("decode grid width", layout.grid_width)?,
            classes: to_u32("decode classes", head.classes)?,
            anchor_stride: to_u32("decode anchor stride", layout.anchor_stride)?,
            cell_stride: to_u32("decode cell stride", layout.cell_stride)?,
            value_stride: to_u32("decode value stride", layout.value_stride)?,
            first_candidate: to_u32("decode candidate index", first_candidate)?,
            kind,
            first_class: to_u32("decode first class", layout.first_class)?,
            score_threshold,
            scale_x_y,
            stride_x: stride[0],
            stride_y: stride[1],
            pad: [0; 2],
        })
    }
}

/// The decode's results, still on the GPU: records and their count.
pub struct GpuCandidates {
    records: GpuTensor,
    count: GpuBuffer,
}

/// Records the decode of every head (`heads[i]` reading `outputs[i]`, f32 of the head's shape)
/// at `score_threshold`. Nothing waits on the GPU; [`GpuCandidates::read`] does.
pub fn launch_decode(
    gpu: &Gpu,
    heads: &[Head],
    outputs: &[&GpuTensor],
    score_threshold: f32,
) -> Result<GpuCandidates> {
    if heads.len() != outputs.len() {
        return Err(Error::InvalidArgument {
            op: "decode",
            detail: format!("{} heads but {} outputs", heads.len(), outputs.len()),
        });
    }
    let total: usize = heads.iter().map(|head| head.layout.candidates).sum();
    if total >= MAX_EXACT_INDEX || heads.iter().any(|head| head.classes >= MAX_EXACT_INDEX) {
        return Err(Error::Unsupported {
            location: "GPU decode".into(),
            detail: format!("{total} candidates: at most 2^24 candidates and classes"),
        });
    }
    let records = GpuTensor::uninit(gpu, &[total.max(1), RECORD_FLOATS], DType::F32)?;
    let count = gpu.alloc(4)?;
    gpu.clear(&count);
    let pipeline = gpu.pipeline(&DETECT_DECODE, &[])?;
    let mut first_candidate = 0;
    for (head, output) in heads.iter().zip(outputs) {
        output.expect_dtype("decode", DType::F32)?;
        if output.shape() != head.shape.as_slice() {
            return Err(Error::ShapeMismatch {
                op: "decode",
                detail: format!(
                    "head '{}' is {:?}, its output {:?}",
                    head.output,
                    head.shape,
                    output.shape()
                ),
            });
        }
        let params = DecodeParams::of(head, first_candidate, score_threshold)?;
        let anchors = match &head.kind {
            HeadKind::AnchorGrid { anchors, .. } => {
                Some(gpu.upload_bytes(bytemuck::cast_slice(anchors.as_slice()))?)
            }
            HeadKind::Boxes { .. } => None,
        };
        let bindings = [
            (0, Binding::Uniform(bytemuck::bytes_of(&params))),
            (1, Binding::Storage(output.buffer())),
            (
                2,
                anchors.as_ref().map_or(Binding::Unused, Binding::Storage),
            ),
            (3, Binding::Storage(records.buffer())),
            (4, Binding::Storage(&count)),
        ];
        let grid = grid_for(gpu, head.layout.candidates, ELEMENTWISE_WORKGROUP)?;
        gpu.dispatch(&pipeline, &bindings, grid)?;
        first_candidate += head.layout.candidates;
    }
    Ok(GpuCandidates { records, count })
}

impl GpuCandidates {
    /// Reads the count, then only that many records, in candidate order.
    pub fn read(&self, gpu: &Gpu) -> Result<Vec<Detection>> {
        let count_bytes = gpu.read_bytes(&self.count)?;
        let count = u32::from_le_bytes([
            count_bytes[0],
            count_bytes[1],
            count_bytes[2],
            count_bytes[3],
        ]) as usize;
        let count = count.min(self.records.shape()[0]);
        if count == 0 {
            return Ok(Vec::new());
        }
        let count_index = count as i64;
        let kept = slice(gpu, &self.records, &[0], &[count_index], Some(&[0]), None)?;
        let values = kept.read::<f32>(gpu)?;
        let mut detections: Vec<Detection> = values
            .chunks_exact(RECORD_FLOATS)
            .map(|record| Detection {
                bbox: BoundingBox {
                    x1: record[0],
                    y1: record[1],
                    x2: record[2],
                    y2: record[3],
                },
                score: record[4],
                class: record[5] as usize,
                candidate: record[6] as usize,
            })
            .collect();
        detections.sort_by_key(|detection| detection.candidate);
        Ok(detections)
    }
}
