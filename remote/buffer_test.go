package remote

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// chunkReader returns at most n bytes a read, like an SSH channel handing
// out the packets it holds.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

type recordingWriter struct {
	bytes.Buffer
	largest int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.Buffer.Write(p)
}

func TestOutputIsCopiedThroughTheLargeBuffer(t *testing.T) {
	data := bytes.Repeat([]byte("hotsnap "), 1<<17) // 1 MiB
	var w recordingWriter
	ch := make(chan error, 1)
	// io.Copy, as the SSH session copies a command's output.
	n, err := io.Copy(&errWriter{w: &w, ch: ch}, &chunkReader{r: bytes.NewReader(data), n: 1 << 20})
	if err != nil || n != int64(len(data)) || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("copied %d bytes (%v), equal %v", n, err, bytes.Equal(w.Bytes(), data))
	}
	if w.largest != copyBufSize {
		t.Fatalf("largest write %d bytes, want the %d of the copy buffer", w.largest, copyBufSize)
	}
	select {
	case err := <-ch:
		t.Fatalf("error reported: %v", err)
	default:
	}
}

type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errors.New("no space left on device") }

func TestOutputCopyReportsTheWriteError(t *testing.T) {
	ch := make(chan error, 1)
	_, err := io.Copy(&errWriter{w: failingWriter{}, ch: ch}, bytes.NewReader(make([]byte, 1000)))
	if err == nil {
		t.Fatal("no error")
	}
	select {
	case got := <-ch:
		if got.Error() != "no space left on device" {
			t.Fatalf("reported %v", got)
		}
	default:
		t.Fatal("the write error was not reported")
	}
}

func TestReadBufferedConnPassesBytesThrough(t *testing.T) {
	a, b := net.Pipe()
	data := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 100000)
	go func() {
		a.Write(data)
		a.Close()
	}()
	got, err := io.ReadAll(newReadBufferedConn(b))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d of %d bytes (%v)", len(got), len(data), err)
	}
}
