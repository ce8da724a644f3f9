// Package gosdk holds compatibility tests that drive OpenStage with the official Huawei Cloud
// Go SDK (github.com/huaweicloud/huaweicloud-sdk-go-v3): the CSE v1 client as generated, and
// the ServiceStage v3 API — which the Go SDK has no package for — through the SDK's own core
// (HcHttpClient, AK/SK signer, request definitions), the way a generated client calls it.
// compat/run-go-sdk.sh starts the server and sets OPENSTAGE_URL, OPENSTAGE_ACCESS_KEY,
// OPENSTAGE_SECRET_KEY and OPENSTAGE_PROJECT_ID.
package gosdk
