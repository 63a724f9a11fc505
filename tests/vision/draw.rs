//! Image loading errors, and drawing: the labelled PNG has the image's size and the boxes' colours.

use image::{Rgb, RgbImage};
use kiln::vision::draw::class_colour;
use kiln::vision::{draw_detections, load_image, BoundingBox, ClassNames, Detection};
use kiln::Error;

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kiln-vision-{}-{name}", std::process::id()))
}

#[test]
fn missing_and_unreadable_images_are_io_errors() {
    let missing = temp_path("missing.jpg");
    assert!(matches!(load_image(&missing), Err(Error::Io { .. })));
    let garbage = temp_path("garbage.png");
    std::fs::write(&garbage, b"this is not an image").unwrap();
    let error = load_image(&garbage).unwrap_err();
    std::fs::remove_file(&garbage).unwrap();
    assert!(
        error.to_string().contains("not a readable PNG or JPEG"),
        "{error}"
    );
}

#[test]
fn drawn_png_keeps_the_size_and_shows_the_boxes() {
    let mut image = RgbImage::from_pixel(320, 240, Rgb([0, 0, 0]));
    let detections = [
        Detection {
            class: 0,
            score: 0.91,
            bbox: BoundingBox {
                x1: 40.0,
                y1: 60.0,
                x2: 200.0,
                y2: 220.0,
            },
            candidate: 0,
        },
        // Touching the top edge: the label goes inside the box.
        Detection {
            class: 3,
            score: 0.5,
            bbox: BoundingBox {
                x1: 210.0,
                y1: 0.0,
                x2: 319.0,
                y2: 100.0,
            },
            candidate: 1,
        },
    ];
    let names = ClassNames {
        names: vec!["person".into()],
    };
    draw_detections(&mut image, &detections, &names).unwrap();
    let path = temp_path("drawn.png");
    image.save(&path).unwrap();
    let reloaded = load_image(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(reloaded.dimensions(), (320, 240));
    // The left edge of the first box, below its label, is in class 0's colour.
    assert_eq!(*reloaded.get_pixel(40, 150), class_colour(0));
    assert_eq!(*reloaded.get_pixel(318, 50), class_colour(3));
    // Inside the box, away from edges and label, nothing was drawn.
    assert_eq!(*reloaded.get_pixel(120, 150), Rgb([0, 0, 0]));
    // The label (text on a filled background) sits above the first box.
    let label_pixels = (40..120)
        .filter(|&x| *reloaded.get_pixel(x, 50) != Rgb([0, 0, 0]))
        .count();
    assert!(label_pixels > 40, "{label_pixels}");
}
