package datasets_test

import (
	"bytes"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/ebm-go/ebm/datasets"
	"gorgonia.org/tensor"
)

// Load MNIST from the module cache, turn the first 1000 training images into a float32 matrix in
// [0,1], and sample a binary version of it.
func Example() {
	m, err := datasets.LoadMNIST("") // "" = FindMNIST(); a command would pass its -data flag here
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("train: %d images of %d×%d, %d labels\n", m.Train.N, m.Train.Rows, m.Train.Cols, len(m.TrainLabels))
	fmt.Printf("test:  %d images of %d×%d, %d labels\n", m.Test.N, m.Test.Rows, m.Test.Cols, len(m.TestLabels))
	fmt.Println("first labels:", m.TrainLabels[:5], m.TestLabels[:5])

	x, err := m.Train.Matrix(1000, tensor.Float32)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("matrix:", x.Shape(), x.Dtype())

	b, err := datasets.Binarize(x, rand.NewPCG(1, 2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("binarized:", b.Shape(), b.Dtype())
	// Output:
	// train: 60000 images of 28×28, 60000 labels
	// test:  10000 images of 28×28, 10000 labels
	// first labels: [5 0 4 1 9] [7 2 1 0 4]
	// matrix: (1000, 784) float32
	// binarized: (1000, 784) float32
}

func ExampleReadImages_errors() {
	// A label file handed to ReadImages: the error says what was found and what was expected.
	_, err := datasets.ReadImages(bytes.NewReader([]byte{0, 0, 8, 1, 0, 0, 0, 1, 7}))
	fmt.Println(err)
	// Output:
	// datasets: IDX3 image file: bad magic number: found 0x00000801, expected 0x00000803 (this looks like an IDX1 label file)
}
