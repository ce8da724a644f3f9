module github.com/openstage/openstage/compat/go-sdk

go 1.21

require github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.224

require (
	go.mongodb.org/mongo-driver v1.13.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	gopkg.in/ini.v1 v1.67.1 // indirect
)
