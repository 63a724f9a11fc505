//! Images in and out of the network's frame: loading a JPEG or PNG, letterboxing it into the
//! network input (aspect kept, centred, padded), normalising it to an NCHW f32 tensor, and mapping
//! boxes from the input frame back to the original pixels.

use std::path::Path;

use image::{imageops, DynamicImage, ImageDecoder, ImageReader, Rgb, RgbImage};

use crate::error::{Error, Result};
use crate::tensor::HostTensor;
use crate::vision::BoundingBox;

/// The grey that fills the letterbox margins (Ultralytics' 114 of 255).
pub const PAD_GREY: u8 = 114;

/// The default cap on an image's pixels (width·height) that [`load_image`] will decode: 100
/// million, so a 12-megapixel photo passes and the decoded buffer (at most 8 bytes a pixel, 16-bit
/// RGBA, before the RGB copy) stays under 1 GB. `kiln detect --max-image-pixels` raises it.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// Reads a JPEG or PNG (the format is sniffed from the bytes) as 8-bit RGB, refusing images of
/// more than [`DEFAULT_MAX_IMAGE_PIXELS`]; see [`load_image_capped`].
pub fn load_image(path: &Path) -> Result<RgbImage> {
    load_image_capped(path, DEFAULT_MAX_IMAGE_PIXELS)
}

/// Reads a JPEG or PNG as 8-bit RGB after checking the size its header declares: an image of
/// more than `max_pixels` (width·height) is an [`Error::Io`] naming the file, its size and the
/// cap, raised before any pixel is decoded. A missing file or bytes that are no readable image
/// give [`Error::Io`] naming the file.
pub fn load_image_capped(path: &Path, max_pixels: u64) -> Result<RgbImage> {
    let unreadable = |error: image::ImageError| Error::Io {
        path: path.display().to_string(),
        detail: format!("not a readable PNG or JPEG image: {error}"),
    };
    let decoder = ImageReader::open(path)
        .map_err(|error| Error::io(path, error))?
        .with_guessed_format()
        .map_err(|error| Error::io(path, error))?
        .into_decoder()
        .map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        let channels = u64::from(decoder.color_type().channel_count());
        return Err(Error::Io {
            path: path.display().to_string(),
            detail: format!(
                "the header declares {width}×{height} pixels ({} bytes decoded at {channels} \
                 channels), over the cap of {max_pixels} pixels (raise --max-image-pixels to \
                 read it)",
                pixels * channels
            ),
        });
    }
    let decoded = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    Ok(decoded.into_rgb8())
}

/// How an image of `source` pixels sits in a network input of `input` pixels: scaled by one
/// factor to `resized`, placed at `offset`, the rest padded. Sizes are `[width, height]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Letterbox {
    /// The original image's size.
    pub source: [u32; 2],
    /// The network input's size.
    pub input: [u32; 2],
    /// The image's size inside the input.
    pub resized: [u32; 2],
    /// The top-left corner of the image inside the input.
    pub offset: [u32; 2],
}

impl Letterbox {
    /// The letterbox of a `source` image in an `input` frame (both `[width, height]`, non-zero):
    /// the largest scale at which the whole image fits, the margins split evenly (the odd pixel
    /// on the right or bottom).
    pub fn new(source: [u32; 2], input: [u32; 2]) -> Result<Self> {
        if source.contains(&0) || input.contains(&0) {
            return Err(Error::InvalidArgument {
                op: "letterbox",
                detail: format!("image {source:?} and input {input:?} must be non-empty"),
            });
        }
        let scale = (f64::from(input[0]) / f64::from(source[0]))
            .min(f64::from(input[1]) / f64::from(source[1]));
        let fit =
            |axis: usize| ((f64::from(source[axis]) * scale).round() as u32).clamp(1, input[axis]);
        let resized = [fit(0), fit(1)];
        Ok(Letterbox {
            source,
            input,
            resized,
            offset: [(input[0] - resized[0]) / 2, (input[1] - resized[1]) / 2],
        })
    }

    fn scale(&self, axis: usize) -> f32 {
        self.resized[axis] as f32 / self.source[axis] as f32
    }

    /// A box in original-image pixels, in input pixels.
    pub fn to_input(&self, source_box: BoundingBox) -> BoundingBox {
        let (sx, sy) = (self.scale(0), self.scale(1));
        let (ox, oy) = (self.offset[0] as f32, self.offset[1] as f32);
        BoundingBox {
            x1: source_box.x1 * sx + ox,
            y1: source_box.y1 * sy + oy,
            x2: source_box.x2 * sx + ox,
            y2: source_box.y2 * sy + oy,
        }
    }

    /// A box in input pixels, in original-image pixels, clipped to the image.
    pub fn to_source(&self, input_box: BoundingBox) -> BoundingBox {
        let (sx, sy) = (self.scale(0), self.scale(1));
        let (ox, oy) = (self.offset[0] as f32, self.offset[1] as f32);
        let (width, height) = (self.source[0] as f32, self.source[1] as f32);
        BoundingBox {
            x1: ((input_box.x1 - ox) / sx).clamp(0.0, width),
            y1: ((input_box.y1 - oy) / sy).clamp(0.0, height),
            x2: ((input_box.x2 - ox) / sx).clamp(0.0, width),
            y2: ((input_box.y2 - oy) / sy).clamp(0.0, height),
        }
    }

    /// `image` (of `self.source` pixels) resized (bilinear) and padded with [`PAD_GREY`] into the
    /// input frame.
    pub fn apply(&self, image: &RgbImage) -> Result<RgbImage> {
        if image.dimensions() != (self.source[0], self.source[1]) {
            return Err(Error::ShapeMismatch {
                op: "letterbox",
                detail: format!(
                    "the letterbox is for a {:?} image, this one is {:?}",
                    self.source,
                    image.dimensions()
                ),
            });
        }
        let resized = imageops::resize(
            image,
            self.resized[0],
            self.resized[1],
            imageops::FilterType::Triangle,
        );
        let mut framed = RgbImage::from_pixel(self.input[0], self.input[1], Rgb([PAD_GREY; 3]));
        imageops::replace(
            &mut framed,
            &resized,
            i64::from(self.offset[0]),
            i64::from(self.offset[1]),
        );
        Ok(framed)
    }
}

/// `image` as a `[1, 3, height, width]` f32 tensor, channels R, G, B, values scaled to [0, 1].
pub fn to_nchw(image: &RgbImage) -> Result<HostTensor> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let plane = width * height;
    let mut values = vec![0.0f32; 3 * plane];
    for (index, pixel) in image.pixels().enumerate() {
        for (channel, &level) in pixel.0.iter().enumerate() {
            values[channel * plane + index] = f32::from(level) / 255.0;
        }
    }
    HostTensor::from_f32(&[1, 3, height, width], values)
}

/// Letterboxes `image` into an `input` (`[width, height]`) frame and normalises it: the network
/// input tensor and the letterbox that maps its boxes back.
pub fn preprocess(image: &RgbImage, input: [u32; 2]) -> Result<(HostTensor, Letterbox)> {
    let letterbox = Letterbox::new([image.width(), image.height()], input)?;
    let tensor = to_nchw(&letterbox.apply(image)?)?;
    Ok((tensor, letterbox))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_image_is_padded_top_and_bottom() {
        let letterbox = Letterbox::new([640, 480], [416, 416]).unwrap();
        assert_eq!(letterbox.resized, [416, 312]);
        assert_eq!(letterbox.offset, [0, 52]);
    }

    #[test]
    fn normalised_tensor_is_planar_rgb() {
        let mut image = RgbImage::new(2, 1);
        image.put_pixel(1, 0, Rgb([255, 0, 51]));
        let tensor = to_nchw(&image).unwrap();
        assert_eq!(tensor.shape(), &[1, 3, 1, 2]);
        assert_eq!(tensor.as_f32().unwrap(), &[0.0, 1.0, 0.0, 0.0, 0.0, 0.2]);
    }
}
