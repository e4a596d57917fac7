// Package s3blob keeps blobs in S3-compatible object storage (AWS S3,
// MinIO, Ceph, R2...) through github.com/minio/minio-go/v7: the blob store
// every node of a cluster shares. Replay is streamed through talkratio
// with Range requests (a presigned URL on another origin would break the
// page's Content-Security-Policy).
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"talkratio/call"
)

// Store is a call.BlobStore in one bucket, under a prefix.
type Store struct {
	c      *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	tmpDir string // where blobs are written before their upload
}

var _ call.BlobStore = (*Store)(nil)

// Config says where the objects are and how to reach them.
type Config struct {
	// URL is s3://BUCKET or s3://BUCKET/PREFIX.
	URL string
	// Endpoint is the service's host[:port] (default s3.amazonaws.com);
	// Insecure talks plain HTTP to it (a local MinIO, a test fake).
	Endpoint string
	Insecure bool
	// AccessKey, SecretKey and Region; with no keys, the AWS_* variables
	// of the environment are used.
	AccessKey, SecretKey, Region string
	// TmpDir is where a blob being written is kept until Commit uploads
	// it (a WAV's header is written last); default os.TempDir().
	TmpDir string
}

// ConfigFromEnv is the configuration of rawURL with the endpoint and
// credentials from the environment: S3_ENDPOINT (or AWS_ENDPOINT_URL; a
// leading http:// means plain HTTP), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION.
func ConfigFromEnv(rawURL string) Config {
	c := Config{URL: rawURL, Region: os.Getenv("AWS_REGION"),
		AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
	ep := os.Getenv("S3_ENDPOINT")
	if ep == "" {
		ep = os.Getenv("AWS_ENDPOINT_URL")
	}
	switch {
	case strings.HasPrefix(ep, "http://"):
		c.Endpoint, c.Insecure = strings.TrimPrefix(ep, "http://"), true
	default:
		c.Endpoint = strings.TrimPrefix(ep, "https://")
	}
	return c
}

// Open connects to the bucket and checks that it exists.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("blob store %q: want s3://BUCKET/PREFIX", cfg.URL)
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	creds := credentials.NewEnvAWS()
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	}
	c, err := minio.New(strings.TrimSuffix(endpoint, "/"), &minio.Options{
		Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region, BucketLookup: minio.BucketLookupAuto,
	})
	if err != nil {
		return nil, fmt.Errorf("blob store %s: %w", cfg.URL, err)
	}
	s := &Store{c: c, bucket: u.Host, prefix: strings.Trim(u.Path, "/"), tmpDir: cfg.TmpDir}
	if s.prefix != "" {
		s.prefix += "/"
	}
	ok, err := c.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("blob store %s: %w", cfg.URL, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob store %s: no bucket %q", cfg.URL, s.bucket)
	}
	return s, nil
}

// object maps a key to its object name, refusing keys a directory store
// would refuse too, so that both behave alike.
func (s *Store) object(key string) (string, error) {
	if key == "" || path.Clean(key) != key || path.IsAbs(key) || key == ".." || strings.HasPrefix(key, "../") || strings.ContainsRune(key, '\\') {
		return "", fmt.Errorf("blob key %q: %w", key, call.ErrNotFound)
	}
	return s.prefix + key, nil
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == minio.NoSuchKey || code == "NotFound"
}

// Create implements call.BlobStore.
func (s *Store) Create(ctx context.Context, key string) (call.AudioWriter, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.tmpDir, "talkratio-blob-*")
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", key, err)
	}
	return &writer{File: f, s: s, name: name, ctx: ctx}, nil
}

// Open implements call.BlobStore: reads are Range requests, made as the
// blob is read and seeked.
func (s *Store) Open(ctx context.Context, key string) (call.Blob, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", key, err)
	}
	st, err := o.Stat()
	if err != nil {
		o.Close()
		if notFound(err) {
			return nil, call.ErrNotFound
		}
		return nil, fmt.Errorf("blob %s: %w", key, err)
	}
	return &object{Object: o, size: st.Size, mod: st.LastModified}, nil
}

// Move implements call.BlobStore: a server-side copy, then the delete.
func (s *Store) Move(ctx context.Context, from, to string) error {
	src, err := s.object(from)
	if err != nil {
		return err
	}
	dst, err := s.object(to)
	if err != nil {
		return err
	}
	_, err = s.c.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: dst}, minio.CopySrcOptions{Bucket: s.bucket, Object: src})
	if err != nil {
		if notFound(err) {
			return call.ErrNotFound
		}
		return fmt.Errorf("move blob %s: %w", from, err)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, src, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("move blob %s: %w", from, err)
	}
	return nil
}

// Delete implements call.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return nil
	}
	if err := s.c.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// List implements call.BlobStore.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list blobs %s: %w", prefix, o.Err)
		}
		out = append(out, strings.TrimPrefix(o.Key, s.prefix))
	}
	sort.Strings(out)
	return out, nil
}

// writer is a blob being written: a local temporary file, uploaded whole
// on Commit (S3 has no object written in place, and a WAV's header is
// written last).
type writer struct {
	*os.File
	s    *Store
	name string
	ctx  context.Context
	done bool
}

func (w *writer) Commit() error {
	if w.done {
		return errors.New("blob already committed or aborted")
	}
	w.done = true
	defer os.Remove(w.Name())
	defer w.Close()
	size, err := w.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = w.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("commit blob: %w", err)
	}
	if _, err := w.s.c.PutObject(context.WithoutCancel(w.ctx), w.s.bucket, w.name, w.File, size, minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("commit blob: %w", err)
	}
	return nil
}

func (w *writer) Abort() {
	if !w.done {
		w.done = true
		w.Close()
		os.Remove(w.Name())
	}
}

// object is a blob opened for reading.
type object struct {
	*minio.Object
	size int64
	mod  time.Time
}

func (o *object) Size() int64        { return o.size }
func (o *object) ModTime() time.Time { return o.mod }
