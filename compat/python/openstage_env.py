"""Settings of the server under test (set by compat/run-python.sh) and SDK clients pointed at it."""
import os

from huaweicloudsdkcore.auth.credentials import BasicCredentials

URL = os.environ["OPENSTAGE_URL"]
AK = os.environ["OPENSTAGE_ACCESS_KEY"]
SK = os.environ["OPENSTAGE_SECRET_KEY"]
PROJECT_ID = os.environ["OPENSTAGE_PROJECT_ID"]


def sdk_client(client_class, ak=AK, sk=SK, project_id=PROJECT_ID):
    """A generated Huawei Cloud service client built the way users build one, pointed at our server."""
    return client_class.new_builder().with_credentials(BasicCredentials(ak, sk, project_id)).with_endpoints([URL]).build()
