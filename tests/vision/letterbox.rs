//! Letterbox geometry and pixels, and boxes mapped into the input frame and back.

use image::{Rgb, RgbImage};
use kiln::vision::image::PAD_GREY;
use kiln::vision::{preprocess, BoundingBox, Letterbox};

/// Sources and inputs `[width, height]`: landscape, portrait, square, upscaled, odd margins.
const CASES: [([u32; 2], [u32; 2]); 6] = [
    ([768, 576], [416, 416]),
    ([480, 640], [640, 640]),
    ([500, 500], [320, 320]),
    ([100, 50], [640, 640]),
    ([333, 101], [416, 256]),
    ([1, 1], [32, 32]),
];

#[test]
fn image_fits_inside_the_input_and_is_centred() {
    for (source, input) in CASES {
        let letterbox = Letterbox::new(source, input).unwrap();
        for axis in 0..2 {
            let margin = input[axis] - letterbox.resized[axis];
            assert_eq!(
                letterbox.offset[axis],
                margin / 2,
                "{source:?} in {input:?}"
            );
        }
        // One axis fills the input, the other keeps the aspect ratio to within a rounded pixel.
        assert!(letterbox.resized[0] == input[0] || letterbox.resized[1] == input[1]);
        let aspect = source[0] as f64 / source[1] as f64;
        let kept = letterbox.resized[0] as f64 / letterbox.resized[1] as f64;
        let rounding = 0.5 / letterbox.resized[0].min(letterbox.resized[1]) as f64;
        assert!(
            (kept / aspect - 1.0).abs() <= 2.0 * rounding + 1e-12,
            "{source:?}"
        );
    }
}

#[test]
fn boxes_round_trip_between_source_and_input() {
    for (source, input) in CASES {
        let letterbox = Letterbox::new(source, input).unwrap();
        let (w, h) = (source[0] as f32, source[1] as f32);
        let original = BoundingBox {
            x1: 0.1 * w,
            y1: 0.2 * h,
            x2: 0.9 * w,
            y2: h,
        };
        let back = letterbox.to_source(letterbox.to_input(original));
        // Each coordinate goes through a multiply-add and its inverse in f32: a few roundings
        // of values up to the larger side, so 8 ulp of that side bounds the error.
        let tolerance = 8.0 * f32::EPSILON * w.max(h).max(input[0].max(input[1]) as f32);
        for (got, want) in [
            (back.x1, original.x1),
            (back.y1, original.y1),
            (back.x2, original.x2),
            (back.y2, original.y2),
        ] {
            assert!(
                (got - want).abs() <= tolerance,
                "{source:?}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn boxes_in_the_margin_are_clipped_to_the_image() {
    let letterbox = Letterbox::new([768, 576], [416, 416]).unwrap();
    let whole_input = BoundingBox {
        x1: -10.0,
        y1: 0.0,
        x2: 500.0,
        y2: 416.0,
    };
    let clipped = letterbox.to_source(whole_input);
    assert_eq!(
        clipped,
        BoundingBox {
            x1: 0.0,
            y1: 0.0,
            x2: 768.0,
            y2: 576.0
        }
    );
}

#[test]
fn padded_tensor_keeps_the_image_and_greys_the_margins() {
    let colour = [200u8, 30, 90];
    let image = RgbImage::from_pixel(64, 32, Rgb(colour));
    let (tensor, letterbox) = preprocess(&image, [48, 48]).unwrap();
    assert_eq!(tensor.shape(), &[1, 3, 48, 48]);
    assert_eq!(letterbox.resized, [48, 24]);
    let values = tensor.as_f32().unwrap();
    let at = |channel: usize, row: usize, column: usize| values[(channel * 48 + row) * 48 + column];
    for (channel, &level) in colour.iter().enumerate() {
        assert_eq!(at(channel, 0, 0), f32::from(PAD_GREY) / 255.0);
        assert_eq!(at(channel, 47, 47), f32::from(PAD_GREY) / 255.0);
        // A uniform image resizes to the same colour, whatever the filter.
        assert_eq!(at(channel, 24, 24), f32::from(level) / 255.0);
    }
}
