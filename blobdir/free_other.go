//go:build !linux

package blobdir

import "errors"

// FreeBytes is not known off Linux: the free-space check is skipped.
func FreeBytes(string) (int64, error) { return 0, errors.ErrUnsupported }
