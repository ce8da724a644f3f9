package org.openstage.compat;

import com.huaweicloud.sdk.core.ClientBuilder;
import com.huaweicloud.sdk.core.auth.BasicCredentials;
import com.huaweicloud.sdk.core.http.HttpConfig;
import java.util.List;
import java.util.UUID;

/** The server under test (set by compat/run-java.sh) and SDK clients built the way users build them. */
final class OpenStage {
    static final String URL = env("OPENSTAGE_URL");
    static final String AK = env("OPENSTAGE_ACCESS_KEY");
    static final String SK = env("OPENSTAGE_SECRET_KEY");
    static final String PROJECT_ID = env("OPENSTAGE_PROJECT_ID");

    private OpenStage() {
    }

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException(name + " is not set; run compat/run-java.sh");
        }
        return v;
    }

    /** A generated client of `builder`, AK/SK-signed for the project, pointed at OpenStage. */
    static <C> C client(ClientBuilder<C> builder) {
        BasicCredentials auth = new BasicCredentials().withAk(AK).withSk(SK).withProjectId(PROJECT_ID);
        return builder.withHttpConfig(HttpConfig.getDefaultHttpConfig().withTimeout(120)).withCredential(auth).withEndpoints(List.of(URL)).build();
    }

    /** A unique resource name: a letter, then hex. */
    static String name(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }
}
