package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"text/template"

	"github.com/PaesslerAG/jsonpath"
)

// esoStore is the part of an External Secrets Operator SecretStore with
// spec.provider.webhook that shapes a request, and getSecret is what the
// provider does with it (external-secrets providers/v1/webhook/webhook.go
// GetSecret, pkg/webhook GetWebhookData, executeRequest,
// extractSecretData), trimmed to what hush's agent meets: no body, no
// NTLM, no CA (loopback).
type esoStore struct {
	URL      string            // a text/template: {{ .remoteRef.key }} ...
	Method   string            // default GET
	Headers  map[string]string // templates, over the store's secrets
	JSONPath string            // result.jsonPath
}

var errNoSecret = errors.New("NoSecretError: the endpoint answered 404")

func (s *esoStore) getSecret(key, version string, auth map[string]string) ([]byte, error) {
	// GetTemplateData: the url gets the escaped data, headers the raw.
	escaped := map[string]map[string]string{
		"remoteRef": {"key": url.QueryEscape(key), "version": url.QueryEscape(version), "property": "", "namespace": "default"},
		"auth":      auth,
	}
	raw := map[string]map[string]string{
		"remoteRef": {"key": key, "version": version, "property": "", "namespace": "default"},
		"auth":      auth,
	}
	u, err := esoTemplate(s.URL, escaped)
	if err != nil {
		return nil, err
	}
	method := s.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(nil))
	if err != nil {
		return nil, err
	}
	for k, tv := range s.Headers {
		v, err := esoTemplate(tv, raw)
		if err != nil {
			return nil, err
		}
		req.Header.Add(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to call endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 404 {
		return nil, errNoSecret
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return nil, fmt.Errorf("endpoint gave error %s", resp.Status)
	}
	result, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if s.JSONPath == "" {
		return result, nil
	}
	var data any
	if err := json.Unmarshal(result, &data); err != nil {
		return nil, fmt.Errorf("failed to parse response json: %w", err)
	}
	data, err = jsonpath.Get(s.JSONPath, data)
	if err != nil {
		return nil, fmt.Errorf("failed to get response path %s: %w", s.JSONPath, err)
	}
	return esoExtract(data)
}

func esoTemplate(t string, data map[string]map[string]string) (string, error) {
	if t == "" {
		return "", nil
	}
	tp, err := template.New("webhooktemplate").Parse(t)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := tp.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// esoExtract is ESO's extractSecretData.
func esoExtract(v any) ([]byte, error) {
	switch x := v.(type) {
	case bool:
		return []byte(strconv.FormatBool(x)), nil
	case nil:
		return []byte{}, nil
	case float64:
		return []byte(strconv.FormatFloat(x, 'f', 0, 64)), nil
	case string:
		return []byte(x), nil
	case []any:
		if len(x) == 0 {
			return nil, errors.New("filter worked but didn't get any result")
		}
		return esoExtract(x[0])
	case map[string]any:
		return json.Marshal(x)
	}
	return nil, fmt.Errorf("failed to get response (wrong type: %T)", v)
}
