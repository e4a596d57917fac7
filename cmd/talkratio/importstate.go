package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// importFiles expands the arguments: files as given, directories to the
// *.wav files under them, in name order.
func importFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".wav") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no .wav files", a)
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}

// importKey names a file's content as uploaded: its absolute path, size
// and modification time. A file changed since is uploaded again.
func importKey(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%d|%d", abs, st.Size(), st.ModTime().UnixNano()), nil
}

// defaultImportState is the state file for a service URL, in the user's
// cache directory.
func defaultImportState(url string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(dir, "talkratio", "import-"+hex.EncodeToString(sum[:6])+".tsv"), nil
}

// loadImportState reads the state file: one line per file uploaded, its
// key and its call id, tab-separated (a missing file is an empty state).
func loadImportState(path string) (map[string]string, error) {
	done := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if key, id, ok := strings.Cut(sc.Text(), "\t"); ok {
			id, _, _ = strings.Cut(id, "\t")
			done[key] = id
		}
	}
	return done, sc.Err()
}

// appendImportState notes an upload, synced, before the next begins: an
// interruption loses at most the upload under way.
func appendImportState(path, key, id, file string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s\t%s\t%s\n", key, id, file)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}
