//! numpy `.npy` files (format versions 1 to 3) read to and written from [`crate::tensor::HostTensor`].
