// Package servicestage holds compatibility tests that drive an OpenStage server with the
// official Huawei Cloud Go SDK (github.com/huaweicloud/huaweicloud-sdk-go-v3), package
// services/servicestage/v2: the ServiceStage v2 application-management and metadata
// operations, with a real deployment through the deployment engine.
//
// They need a running server: OPENSTAGE_URL (http://host:port) and the admin AK/SK and
// project in OPENSTAGE_ACCESS_KEY, OPENSTAGE_SECRET_KEY and OPENSTAGE_PROJECT_ID;
// compat/run-go.sh starts one and runs them.
package servicestage
