module github.com/openstage/openstage/compat/go-kie

go 1.21

require (
	github.com/go-chassis/cari v0.6.0
	github.com/go-chassis/kie-client v0.2.0
)

require (
	github.com/go-chassis/foundation v0.4.0 // indirect
	github.com/go-chassis/openlog v1.1.3 // indirect
)
