// OpenStage example service: answers on $PORT with its name, version and instance id.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

func env(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func main() {
	port := env("PORT", "8080")
	name := env("CAS_COMPONENT_NAME", "go-hello")
	version := env("CAS_INSTANCE_VERSION", "1.0.0")
	instance := env("CAS_INSTANCE_ID", fmt.Sprintf("%s-%d", name, os.Getpid()))
	http.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"service": name, "version": version, "instance": instance, "pid": os.Getpid()})
	})
	fmt.Printf("%s %s listening on %s\n", name, version, port)
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
