//! Drawing detections onto the image: a box outline per detection in its class's colour and a
//! filled label (`name 0.87`) in the Hack font from `epaint_default_fonts`.

use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_rect_mut, draw_text_mut, text_size};
use imageproc::rect::Rect;

use crate::error::{Error, Result};
use crate::vision::{ClassNames, Detection};

/// Ultralytics' 20 class colours, cycled by class index.
const PALETTE: [[u8; 3]; 20] = [
    [255, 56, 56],
    [255, 157, 151],
    [255, 112, 31],
    [255, 178, 29],
    [207, 210, 49],
    [72, 249, 10],
    [146, 204, 23],
    [61, 219, 134],
    [26, 147, 52],
    [0, 212, 187],
    [44, 153, 168],
    [0, 194, 255],
    [52, 69, 147],
    [100, 115, 255],
    [0, 24, 236],
    [132, 56, 255],
    [82, 0, 133],
    [203, 56, 255],
    [255, 149, 200],
    [255, 55, 199],
];

/// The colour of `class`.
pub fn class_colour(class: usize) -> Rgb<u8> {
    Rgb(PALETTE[class % PALETTE.len()])
}

/// Black or white, whichever reads better on `background` (by Rec. 601 luma).
fn text_colour(background: Rgb<u8>) -> Rgb<u8> {
    let [r, g, b] = background.0.map(f32::from);
    if 0.299 * r + 0.587 * g + 0.114 * b > 150.0 {
        Rgb([0, 0, 0])
    } else {
        Rgb([255, 255, 255])
    }
}

/// The rectangle from `(x1, y1)` to `(x2, y2)` (pixels, inclusive of the start), at least 1×1.
fn rect(x1: f32, y1: f32, x2: f32, y2: f32) -> Rect {
    let (left, top) = (x1.round() as i32, y1.round() as i32);
    let width = (x2.round() as i32 - left).max(1) as u32;
    let height = (y2.round() as i32 - top).max(1) as u32;
    Rect::at(left, top).of_size(width, height)
}

/// Draws each detection (boxes in `image`'s pixels) with its label `name score`. Line width and
/// text size grow with the image (2 px and 14 px at least).
pub fn draw_detections(
    image: &mut RgbImage,
    detections: &[Detection],
    names: &ClassNames,
) -> Result<()> {
    let font = FontRef::try_from_slice(epaint_default_fonts::HACK_REGULAR).map_err(|error| {
        Error::InvalidArgument {
            op: "draw",
            detail: format!("the built-in font does not parse: {error}"),
        }
    })?;
    let short_side = image.width().min(image.height()) as f32;
    let thickness = (short_side / 300.0).round().max(2.0);
    let scale = PxScale::from((short_side / 30.0).max(14.0));
    for detection in detections {
        let colour = class_colour(detection.class);
        let b = detection.bbox;
        for inset in 0..thickness as u32 {
            let inset = inset as f32;
            draw_hollow_rect_mut(
                image,
                rect(b.x1 + inset, b.y1 + inset, b.x2 - inset, b.y2 - inset),
                colour,
            );
        }
        let label = format!("{} {:.2}", names.name(detection.class), detection.score);
        let (text_width, text_height) = text_size(scale, &font, &label);
        let padding = thickness;
        let label_height = text_height as f32 + 2.0 * padding;
        // Above the box when it fits, else just inside its top edge.
        let top = if b.y1 >= label_height {
            b.y1 - label_height
        } else {
            b.y1
        };
        let label_box = rect(
            b.x1,
            top,
            b.x1 + text_width as f32 + 2.0 * padding,
            top + label_height,
        );
        draw_filled_rect_mut(image, label_box, colour);
        draw_text_mut(
            image,
            text_colour(colour),
            (b.x1 + padding).round() as i32,
            (top + padding).round() as i32,
            scale,
            &font,
            &label,
        );
    }
    Ok(())
}
