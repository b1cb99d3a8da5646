package remote

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// NewS3Client returns a minio-go client for endpoint (http(s)://host:port)
// whose connections are opened with dial — typically the SSH tunnel of a
// node, for an S3 server only the nodes can reach.
func NewS3Client(endpoint, accessKey, secretKey, region string, pathStyle bool, dial DialFunc) (*minio.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3 endpoint %q: want http(s)://host[:port]", endpoint)
	}
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	if dial != nil {
		tr.DialContext = dial
	}
	lookup := minio.BucketLookupAuto
	if pathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       region,
		BucketLookup: lookup,
		Transport:    tr,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %s: %w", endpoint, err)
	}
	return c, nil
}
