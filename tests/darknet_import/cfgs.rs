//! The small Darknet cfgs the importer tests write, with deterministic weights, to a temp folder.

/// Every section kind in the issue: conv + bn + leaky, maxpool stride 2, maxpool size 2 stride 1,
/// conv, upsample, route, conv, yolo ×2. A 16×24 input; heads on a 4×6 (stride 4) and an 8×12
/// grid (stride 2).
pub const TINY_CFG: &str = "\
[net]
# as in darknet's cfgs: training keys are ignored
batch=1
width=24
height=16
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=16
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[maxpool]
size=2
stride=1

[convolutional]
size=1
stride=1
pad=1
filters=21
activation=linear

[yolo]
mask = 3,4,5
anchors = 2,3,  4,5,  6,7,  8,9,  10,11,  12,13
classes=2
num=6
jitter=.3

[route]
layers = -4

[convolutional]
batch_normalize=1
filters=8
size=1
stride=1
pad=1
activation=leaky

[upsample]
stride=2

[route]
layers = -1, 2

[convolutional]
size=3
stride=1
pad=1
filters=21
activation=linear

[yolo]
mask = 0,1,2
anchors = 2,3,  4,5,  6,7,  8,9,  10,11,  12,13
classes=2
num=6
";

/// The rest of what the importer handles, on odd extents: stride-2 pools over 9×9 and 5×5 inputs
/// (darknet pads the end), a grouped conv, route groups, a shortcut, a conv without `pad`, and the
/// mish, swish, relu6 and logistic activations; one head on a 3×3 grid (stride 3).
pub const EXTRAS_CFG: &str = "\
[net]
width=9
height=9
channels=4

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=mish

[maxpool]
size=2
stride=2

[convolutional]
filters=8
groups=2
size=3
stride=1
pad=1
activation=swish

[route]
layers=-1
groups=2
group_id=1

[convolutional]
batch_normalize=1
filters=8
size=1
stride=1
activation=relu6

[shortcut]
from=-3
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
filters=14
size=1
stride=1
activation=logistic

[yolo]
mask=1,0
anchors=3,4, 5,6
classes=2
num=2
scale_x_y=1.05
";
