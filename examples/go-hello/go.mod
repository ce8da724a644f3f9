module openstage.io/examples/go-hello

go 1.21
