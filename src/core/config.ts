import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';

/**
 * The whole configuration: one TypeBox schema, one section per area (STYLE.md §5).
 * Every key has a default, a unit in its name where it has one, and a description.
 * Sources, later wins: defaults → YAML file (`--config`) → environment → flags.
 * Environment names: `OPENSTAGE_<KEY>` for top-level keys, `OPENSTAGE_<SECTION>_<KEY>`
 * for section keys (camelCase becomes UPPER_SNAKE), plus the ServiceComb `QUOTA_*` names.
 */
export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address to listen on.' }),
    port: Type.Integer({ default: 30100, minimum: 0, maximum: 65535, description: 'TCP port for every API (0 picks a free one).' }),
    dataDir: Type.String({ default: './data', description: 'Directory for the embedded database and other state; a relative path is taken from the working directory at start. Created 0700 when missing.' }),
    db: Type.String({ default: 'sqlite', description: '`sqlite` (a file in dataDir, WAL) or a `postgres://` URL.' }),
    logLevel: Type.Union(
      [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
      { default: 'info', description: 'pino log level.' },
    ),
    auth: Type.Union([Type.Literal('iam'), Type.Literal('none')], {
      default: 'iam',
      description: 'Identity check on ServiceStage, Git, engine-management and config import/export APIs: `iam` (IAM token or AK/SK signature) or `none` (open, for local development).',
    }),
    iam: Type.Object(
      {
        domainName: Type.String({ default: 'openstage', description: 'Account (domain) name of the bootstrap admin user.' }),
        adminName: Type.String({ default: 'admin', description: 'Name of the bootstrap admin user.' }),
        adminPassword: Type.String({ default: '', description: 'Password of the admin user (OPENSTAGE_ADMIN_PASSWORD); generated and printed once when empty.' }),
        projectId: Type.String({ default: '', description: 'Id of the default project (OPENSTAGE_PROJECT_ID); 32 hex characters generated when empty.' }),
        projectName: Type.String({ default: 'default', description: 'Name of the default project (a region name on Huawei Cloud).' }),
        accessKey: Type.String({ default: '', description: "The admin's access key id (OPENSTAGE_ACCESS_KEY); generated when empty." }),
        secretKey: Type.String({ default: '', description: "The admin's secret key (OPENSTAGE_SECRET_KEY); generated and printed once when empty." }),
        tokenTtlSeconds: Type.Integer({ default: 86400, minimum: 60, description: 'Lifetime of IAM tokens.' }),
        signatureSkewSeconds: Type.Integer({ default: 900, minimum: 1, description: 'How far X-Sdk-Date may be from the server clock.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    cluster: Type.Object(
      {
        serverLeaseSeconds: Type.Integer({ default: 10, minimum: 1, description: 'PostgreSQL only: a server that has not renewed its lease for this long is dead; its jobs and exclusive engines are taken over by the live servers, and it lets go of them itself when it cannot renew in time.' }),
        heartbeatMs: Type.Integer({ default: 2000, minimum: 100, description: 'PostgreSQL only: how often a server renews its lease, refreshes the list of live servers and, when none leads, tries to become the leader.' }),
        replicationWaitMs: Type.Integer({ default: 2000, minimum: 0, description: 'PostgreSQL only: a write is answered once every live server has applied it, or after this long (a server that misses it is not waited for again until it has caught up).' }),
        advertiseUrl: Type.String({ default: '', pattern: '^(https?://[^/?#\\s]+)?$', description: 'The base URL (`http(s)://host:port`) other servers and clients reach this server at: where the other servers on one PostgreSQL pass route and replica-log requests on to it, what `GET /cluster` lists and the endpoint of its SERVICECENTER instance. Empty: derived from the listen address (127.0.0.1 for a wildcard address, which reaches servers on this machine only).' }),
        changeRetentionSeconds: Type.Integer({ default: 3600, minimum: 60, description: 'PostgreSQL only: how long the change log keeps a change; a server away for longer reloads by restarting.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    secrets: Type.Object(
      {
        masterKey: Type.String({ default: '', description: 'Key (64 hex characters) encrypting secrets at rest (OPENSTAGE_MASTER_KEY); kept in <dataDir>/master.key when empty. Servers sharing a PostgreSQL database must share it: a server whose key cannot open the stored secrets refuses to start.' }),
        passwordHashLog2N: Type.Integer({ default: 15, minimum: 10, maximum: 20, description: 'scrypt cost of new password hashes: N = 2^value.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    registry: Type.Object(
      {
        instanceMinIntervalSeconds: Type.Integer({ default: 5, minimum: 1, description: 'Smallest heartbeat interval a push-mode instance may ask for (registry.instance.minInterval).' }),
        instanceMinTimes: Type.Integer({ default: 3, minimum: 0, description: 'Smallest missed-heartbeat count a push-mode instance may ask for (registry.instance.minTimes).' }),
        instanceTtlSeconds: Type.Integer({ default: 0, minimum: 0, description: 'Server-wide lease TTL overriding interval × (times + 1); 0 keeps the per-instance TTL.' }),
        leaseSweepPeriodMs: Type.Integer({ default: 1000, minimum: 10, description: 'How often expired leases are looked for.' }),
        stallThresholdMs: Type.Integer({ default: 2000, minimum: 0, description: 'An event-loop stall at least this long (a SIGSTOP, a frozen VM) holds lease expiry for as long as the stall lasted, so heartbeats waiting to be read renew their leases first; 0 = off.' }),
        leasePersistPeriodMs: Type.Integer({ default: 1000, minimum: 10, description: 'PostgreSQL only: how often the heartbeats a server received are written (one statement per period); the leader expires an instance only when neither its own nor the written heartbeats renewed it, at least two periods after its lease ended.' }),
        watchPingSeconds: Type.Integer({ default: 30, minimum: 1, description: 'Ping period on watch WebSockets.' }),
        maxBodyBytes: Type.Integer({ default: 2097152, minimum: 1024, description: 'Largest request body on registry routes without a tighter limit.' }),
        findCacheEntries: Type.Integer({ default: 20000, minimum: 0, description: 'Discovery results kept serialised, keyed by query and revision.' }),
        environment: Type.String({ default: 'production', description: "Environment of the server's own SERVICECENTER service." }),
      },
      { default: {}, additionalProperties: false },
    ),
    kie: Type.Object(
      {
        maxBodyBytes: Type.Integer({ default: 10485760, minimum: 1024, description: 'Largest request body on config center routes (imports included).' }),
        pollEarlyReplyMs: Type.Integer({ default: 1000, minimum: 0, description: 'A held long poll is answered this long before its `wait` expires (at most a tenth of the wait), so a proxy with the same timeout never cuts it off.' }),
        historyPerKv: Type.Integer({ default: 100, minimum: 1, description: 'Past versions kept per kv; older ones are dropped when a new one is written.' }),
        listCacheEntries: Type.Integer({ default: 10000, minimum: 0, description: 'List results kept serialised, keyed by query and project revision.' }),
        transferAuth: Type.Union([Type.Literal('iam'), Type.Literal('engine')], {
          default: 'iam',
          description: 'Who may import and export (`/kie/file`, `/kie/download`): `iam` (the Huawei CSE API: an IAM token or AK/SK for the project), or `engine` (like the kv API: an RBAC token granting `config` when RBAC is on, anyone otherwise) — what exclusive engine processes run with, so that the main server can forward an import aimed at them.',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    rbac: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Engine RBAC (OPENSTAGE_RBAC, --rbac): every registry and config center call needs `Authorization: Bearer <token>` from POST /v4/token.' }),
        rootPassword: Type.String({ default: '', description: 'Password of the build-in `root` account (OPENSTAGE_ROOT_PASSWORD, or ServiceComb\'s SC_INIT_ROOT_PASSWORD), used only to create it; with RBAC on, the start fails while neither exists.' }),
        tokenExpirySeconds: Type.Integer({ default: 43200, minimum: 900, maximum: 86400, description: 'Token lifetime when a login names no tokenExpirationTime.' }),
        lockAfterFailures: Type.Integer({ default: 3, minimum: 1, description: 'Failed logins (or password changes) of one account from one client address within lockWindowSeconds that lock it.' }),
        lockWindowSeconds: Type.Integer({ default: 900, minimum: 1, description: 'Window in which failed logins are counted, from the first one.' }),
        lockDurationSeconds: Type.Integer({ default: 900, minimum: 1, description: 'How long a locked account stays locked for that client address (releaseLockAfter).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    cas: Type.Object(
      {
        maxBodyBytes: Type.Integer({ default: 4194304, minimum: 1024, description: 'Largest request body on ServiceStage routes (4 MiB: a config file holds at most 1,048,576 characters, a config import .zip at most 500 KB; Huawei Cloud accepts up to 12 MB with AK/SK).' }),
        region: Type.String({ default: 'local', description: 'Region name the platform reports (PAAS_REGION_NAME in config file variables).' }),
        sermantAgentPath: Type.String({ default: '', description: 'Path of sermant-agent.jar (from a Sermant release) that the sermantInjector add-on attaches to Java and Tomcat components; installing the add-on fails while it is empty or missing.' }),
        rdsAdminUrl: Type.String({ default: '', description: 'postgres:// URL of a PostgreSQL role allowed to create databases and roles: the server where environments\' created (IaC) rds resources are provisioned. Empty: provisioning an rds resource fails with that reason.' }),
        rdsTimeoutMs: Type.Integer({ default: 30000, minimum: 100, description: 'Longest wait for the rds provisioning server (connect and each statement).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    git: Type.Object(
      {
        maxBodyBytes: Type.Integer({ default: 12582912, minimum: 1024, description: 'Largest request body on Git repository access routes.' }),
        dir: Type.String({ default: '', description: 'Directory of the repositories hosted by OpenStage (`<dir>/<project>/<namespace>/<repo>.git`); empty: <dataDir>/git. Servers sharing a PostgreSQL database must point it at storage they all share (NFS or the like), so that a push through one is clonable through any.' }),
        publicUrl: Type.String({ default: '', description: 'Base URL of clone URLs of repositories hosted by OpenStage (`<publicUrl>/git/<project>/<namespace>/<repo>.git`) and of webhook callback URLs; empty = the scheme and Host of each request.' }),
        githubApiUrl: Type.String({ default: 'https://api.github.com', description: 'GitHub REST API base URL (GitHub Enterprise: https://<host>/api/v3); an authorization\'s `host` overrides it.' }),
        gitlabApiUrl: Type.String({ default: 'https://gitlab.com/api/v4', description: 'GitLab REST API base URL (self-hosted: https://<host>/api/v4); an authorization\'s `host` overrides it.' }),
        giteeApiUrl: Type.String({ default: 'https://gitee.com/api/v5', description: 'Gitee REST API base URL.' }),
        bitbucketApiUrl: Type.String({ default: 'https://api.bitbucket.org/2.0', description: 'Bitbucket Cloud REST API base URL.' }),
        devcloudApiUrl: Type.String({ default: '', description: 'CodeArts Repo (devcloud) API base URL; empty = devcloud authorizations are refused (SVCSTG.REPO.0401).' }),
        githubClientId: Type.String({ default: '', description: 'GitHub OAuth app client id; empty = GitHub OAuth is refused (SVCSTG.REPO.0401).' }),
        githubClientSecret: Type.String({ default: '', description: 'GitHub OAuth app client secret.' }),
        githubAuthorizeUrl: Type.String({ default: 'https://github.com/login/oauth/authorize', description: 'GitHub OAuth authorize URL.' }),
        githubTokenUrl: Type.String({ default: 'https://github.com/login/oauth/access_token', description: 'GitHub OAuth token URL.' }),
        gitlabClientId: Type.String({ default: '', description: 'GitLab OAuth application id; empty = GitLab OAuth is refused (SVCSTG.REPO.0401).' }),
        gitlabClientSecret: Type.String({ default: '', description: 'GitLab OAuth application secret.' }),
        gitlabAuthorizeUrl: Type.String({ default: 'https://gitlab.com/oauth/authorize', description: 'GitLab OAuth authorize URL.' }),
        gitlabTokenUrl: Type.String({ default: 'https://gitlab.com/oauth/token', description: 'GitLab OAuth token URL.' }),
        oauthRedirectUrl: Type.String({ default: '', description: 'redirect_uri sent to the OAuth host (the console page that posts code and state back); empty = `<publicUrl>/servicestage/oauth`.' }),
        oauthStateTtlSeconds: Type.Integer({ default: 600, minimum: 10, description: 'How long an OAuth state from the redirect URL may be exchanged (once).' }),
        webhookSecret: Type.String({ default: '', description: 'Extra secret accepted on the webhook endpoint besides those of hooks created through the API; empty = none.' }),
        hostTimeoutMs: Type.Integer({ default: 15000, minimum: 100, description: 'Timeout of each call to a Git host and of each hook delivery.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    deploy: Type.Object(
      {
        fetchTimeoutSeconds: Type.Integer({ default: 600, minimum: 1, description: 'Longest a source fetch (git clone, package download) may take before its job fails.' }),
        buildTimeoutSeconds: Type.Integer({ default: 1800, minimum: 1, description: 'Longest a build may take before its job fails.' }),
        readyTimeoutSeconds: Type.Integer({ default: 300, minimum: 1, description: 'Longest a new replica may take to become ready before the rollout fails.' }),
        grayWaitSeconds: Type.Integer({ default: 86400, minimum: 1, description: 'Longest a gray release waits for continue_deploy before its job fails.' }),
        settleSeconds: Type.Integer({ default: 3, minimum: 0, description: 'How long a replica without a readiness probe must stay up to count as ready.' }),
        monitorSeconds: Type.Integer({ default: 5, minimum: 1, description: 'Period of liveness and readiness checks of running replicas.' }),
        stopOnShutdown: Type.Boolean({ default: false, description: 'Stop the deployed replicas when OpenStage stops; by default they keep running and are taken over at the next start.' }),
        portMin: Type.Integer({ default: 20000, minimum: 1024, maximum: 65535, description: 'Lowest port given to replicas (PORT); keep the range below the kernel\'s ephemeral ports (32768 and up on Linux).' }),
        portMax: Type.Integer({ default: 29999, minimum: 1024, maximum: 65535, description: 'Highest port given to replicas.' }),
        tomcatVersion: Type.String({ default: '10.1.59', pattern: '^[0-9A-Za-z][0-9A-Za-z._-]*$', description: 'Apache Tomcat version Tomcat components run in (org.apache.tomcat:tomcat:<version>), downloaded once and kept under <dataDir>/deploy/tomcat/<version>.' }),
        tomcatUrl: Type.String({ default: 'https://repo1.maven.org/maven2/org/apache/tomcat/tomcat', description: 'Base URL (http(s) or file) of the org/apache/tomcat/tomcat folder of a Maven repository or mirror; <url>/<version>/tomcat-<version>.tar.gz is downloaded and checked against its .sha512 (or .sha1).' }),
        tomcatHome: Type.String({ default: '', description: 'An existing Tomcat installation (CATALINA_HOME) to use instead of downloading one, e.g. for hosts without network; empty = download tomcatVersion.' }),
        tomcatAddress: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address the HTTP connector of each Tomcat replica binds (its port is the replica\'s PORT).' }),
        kubernetesRequestTimeoutSeconds: Type.Integer({ default: 10, minimum: 1, description: 'Longest one call to a bound Kubernetes cluster may take (binding checks, applying objects) before it fails.' }),
        kubernetesBaseImageJava: Type.String({ default: 'eclipse-temurin:17-jre', minLength: 1, description: 'Base image of the images OpenStage builds for Java components on a cluster: the build (the jar, or Maven\'s) is copied to /app and started with `java -jar`; java must be on its PATH.' }),
        kubernetesBaseImageTomcat: Type.String({ default: 'tomcat:10.1-jre17', minLength: 1, description: 'Base image of the images built for Tomcat components on a cluster: the war is copied to $CATALINA_HOME/webapps/ROOT.war (/usr/local/tomcat when the image sets none) and the image\'s own command starts Tomcat.' }),
        kubernetesBaseImageNodejs: Type.String({ default: 'node:20-bookworm-slim', minLength: 1, description: 'Base image of the images built for Nodejs components on a cluster: the build (with node_modules) is copied to /app and started with `npm start` or `node <main>`.' }),
        kubernetesBaseImagePython: Type.String({ default: 'python:3.11-slim-bookworm', minLength: 1, description: 'Base image of the images built for Python components on a cluster: the source and its requirements (installed by the build) are copied to /app and started with `python3`; compiled dependencies need the same Python minor version as the build host\'s.' }),
        kubernetesBaseImageGo: Type.String({ default: 'debian:bookworm-slim', minLength: 1, description: 'Base image of the images built for Go components on a cluster: the static binary (CGO_ENABLED=0) is copied to /app/app and started.' }),
        sandbox: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on', description: 'Confine builds and replicas with bubblewrap (own namespaces, read-only host, hidden data directory, one unprivileged uid per project, cgroup limits). off is for development only: user code then runs as OpenStage\'s own user and can read its secrets; a warning is logged at every start.' }),
        sandboxUidBase: Type.Integer({ default: 200000, minimum: 1000, maximum: 2147000000, description: 'First uid given to a project\'s builds and replicas (one uid per project, counting up; OpenStage running as root only).' }),
        sandboxPidsMax: Type.Integer({ default: 4096, minimum: 16, description: 'Most processes and threads one replica or build may have at once (cgroup pids.max).' }),
        sandboxHide: Type.Array(Type.String(), { default: [], description: 'More host paths builds and replicas must not see (besides the data directory, hosted git, the config file, /root, /home and container storage).' }),
        sourceRoots: Type.Array(Type.String(), { default: [], description: 'Host directories whose files file:// sources (git repositories, packages) may name; visible read-only to builds. Must be readable by the project users.' }),
        mavenRepositories: Type.Array(Type.String(), { default: [], description: 'Host directories laid out as Maven local repositories (e.g. an administrator\'s ~/.m2/repository, kept up to date outside OpenStage) that Maven builds take artifacts from before downloading them; visible read-only to every build (never written by one), so put nothing private there. Each project still copies what it uses into its own cache. Must be readable by the project users.' }),
        buildMemoryMiB: Type.Integer({ default: 4096, minimum: 0, description: 'Memory limit of one build or source fetch, MiB (0 = none).' }),
        packageMaxMiB: Type.Integer({ default: 512, minimum: 1, description: 'Largest package (source kind package) a fetch downloads, MiB; a larger one fails the build.' }),
        unpackedMaxMiB: Type.Integer({ default: 1024, minimum: 1, description: 'Largest total size of a package\'s files once unpacked (zip, tar.gz), MiB; a larger one fails the build.' }),
        podmanPath: Type.String({ default: 'podman', minLength: 1, description: 'podman executable of the container runtime (the Docker stack, image components), looked up in PATH unless absolute.' }),
        containerDir: Type.String({ default: '', description: 'Directory of the container runtime\'s own podman configuration and storage (images, containers); empty = <dataDir>/containers.' }),
        containerRunDir: Type.String({ default: '', description: 'Directory of podman\'s run-time state (at most 42 characters: podman refuses longer run roots; ideally on a tmpfs); empty = /run/openstage-<hash> as root, else <tmp>/openstage-<uid>-<hash>.' }),
        containerInsecureRegistries: Type.Array(Type.String({ pattern: '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$' }), { default: [], description: 'Registries (host[:port]) images are pulled from without TLS verification or over plain HTTP.' }),
        containerSearchRegistries: Type.Array(Type.String({ pattern: '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$' }), { default: ['docker.io'], description: 'Registries a short image name (nginx:1.25) is looked up in, in order.' }),
        containerUidBase: Type.Integer({ default: 1000000000, minimum: 65536, maximum: 4000000000, description: 'First host uid of the containers\' user namespaces: a project\'s containers map their uids 0-65535 to a range of 65536 host uids of their own, counting up from here (OpenStage running as root only).' }),
        revisionHistoryLimit: Type.Integer({ default: 10, minimum: 0, description: 'Stored versions of a component kept besides the running (and gray) one when its update_strategy.revision_history_limit is absent; older versions and their artifacts (directories, images) are removed after each deployment (as a Kubernetes Deployment keeps revisionHistoryLimit old ReplicaSets).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    routes: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve stable routes to components on this server\'s HTTP port (host names under routes.domain) and on their TCP ports.' }),
        domain: Type.String({ default: 'localhost', minLength: 1, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$', description: 'Domain of the host-name routes: a component answers at <component>.<application>.<domain> on this server\'s port. `localhost` needs no DNS (curl and browsers resolve *.localhost to the loopback address); for another domain point a wildcard DNS record at this server.' }),
        allComponents: Type.Boolean({ default: true, description: 'Give every component that runs on this host (it has a PORT) a host-name route; false: only those whose external_accesses ask for an http or https access.' }),
        tcpHost: Type.String({ default: '', description: 'Address the TCP routes (external_accesses with protocol TCP and a port in address) listen on; empty: the server\'s own host.' }),
        drainTimeoutSeconds: Type.Integer({ default: 10, minimum: 0, description: 'Longest wait, before a replica is stopped, for the requests a route already sent to it to finish (it gets no new ones).' }),
        proxyTimeoutSeconds: Type.Integer({ default: 300, minimum: 1, description: 'Longest a replica may take to start answering a request sent through a route (then 504).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    engines: Type.Object(
      {
        portMin: Type.Integer({ default: 30110, minimum: 0, maximum: 65535, description: 'Lowest TCP port given to an exclusive engine process (its registry and config center); 0 gives each engine any free port.' }),
        portMax: Type.Integer({ default: 30199, minimum: 0, maximum: 65535, description: 'Highest TCP port given to an exclusive engine process.' }),
        dataDir: Type.String({ default: '', description: 'Directory holding one data directory per exclusive engine; empty: <dataDir>/engines.' }),
        maxEngines: Type.Integer({ default: 20, minimum: 0, description: 'Exclusive engines per project (SVCSTG.00501112 beyond it).' }),
        startTimeoutSeconds: Type.Integer({ default: 120, minimum: 1, description: 'Longest a new engine may take to answer its health check before its Create job ends in Timeout.' }),
        stopTimeoutSeconds: Type.Integer({ default: 30, minimum: 1, description: 'Longest the Delete job waits for the engine process to end (SIGKILL after engines.terminationGraceSeconds).' }),
        terminationGraceSeconds: Type.Integer({ default: 10, minimum: 1, description: 'Wait between SIGTERM and SIGKILL when an engine process is stopped.' }),
        usageCacheMs: Type.Integer({ default: 5000, minimum: 0, description: 'How long an engine\'s used-instance figure is reused before it is asked again.' }),
        stopOnShutdown: Type.Boolean({ default: false, description: 'Stop the exclusive engine processes when OpenStage stops; by default they keep running and are taken over at the next start.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    // ── HTTP layer and login hardening (issue #15) ──
    http: Type.Object(
      {
        headersTimeoutMs: Type.Integer({ default: 10000, minimum: 1000, description: 'Longest a client may take to send the headers of a request; then the connection is closed (half-sent requests hold no connection longer).' }),
        requestTimeoutMs: Type.Integer({ default: 300000, minimum: 0, description: 'Longest a client may take to send a whole request, body included; 0 = no limit. Keep it long enough for git pushes of large repositories.' }),
        idleTimeoutMs: Type.Integer({ default: 120000, minimum: 0, description: 'A connection with no bytes either way for this long while a request is open is closed; long polls (Kie `wait`), watch WebSockets and git smart HTTP are excepted by route. 0 = never.' }),
        keepAliveTimeoutMs: Type.Integer({ default: 72000, minimum: 100, description: 'How long an idle keep-alive connection is kept open between requests (Fastify\'s default, above the 60 s idle timeout of common load balancers, so a proxy never reuses a connection the server just closed). Idle connections are the first evicted at http.maxConnections.' }),
        maxConnections: Type.Integer({ default: 0, minimum: 0, description: 'Most open connections. Past it a new connection evicts the one that has waited longest (over 1 s) idle or half-sent, else it is closed; connections busy with a request are never evicted. 0 = the process file-descriptor limit less 256 (kept for the database, logs and child processes), at most 16384.' }),
        maxWritesInFlight: Type.Integer({ default: 256, minimum: 0, description: 'Writes (requests other than GET, heartbeats and batch finds) in progress at once; past it a write is answered 429 with Retry-After in the API\'s own error format, so a storm of registrations cannot queue without bound. 0 = no limit.' }),
        shedLagMs: Type.Integer({ default: 500, minimum: 0, description: 'When the event loop lags this long (smoothed), writes other than heartbeats and batch finds are answered 429 with Retry-After in the API\'s own error format until it recovers, so heartbeats and reads stay fast. 0 = never shed.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    tls: Type.Object(
      {
        certFile: Type.String({ default: '', description: 'PEM certificate (with its chain) of the server; with keyFile set the port serves HTTPS only. Empty = plain HTTP.' }),
        keyFile: Type.String({ default: '', description: 'PEM private key of certFile.' }),
        caFile: Type.String({ default: '', description: 'PEM CA certificates that client certificates must chain to (mutual TLS); needed when clientAuth is not `none`.' }),
        clientAuth: Type.Union([Type.Literal('none'), Type.Literal('registry'), Type.Literal('all')], {
          default: 'none',
          description: 'Mutual TLS: `none`; `registry` = the ServiceComb APIs (service center, engine RBAC, config center kvs, /health, /version) refuse a request without a client certificate from caFile (401 in their format) while the other APIs stay one-way TLS, as the service center\'s ssl.verifyPeer; `all` = the TLS handshake refuses every client without one.',
        }),
        minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2', description: 'Oldest TLS version accepted.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    login: Type.Object(
      {
        pairFailures: Type.Integer({ default: 5, minimum: 1, description: 'Failed logins of one user from one address (IAM passwords, hosted git Basic auth) after which that pair backs off: 1 s, doubling with each further failure.' }),
        userFailures: Type.Integer({ default: 20, minimum: 1, description: 'Failed logins of one user from any address after which that user backs off.' }),
        addressFailures: Type.Integer({ default: 20, minimum: 1, description: 'Failed logins from one address, whatever the user, after which that address backs off.' }),
        windowSeconds: Type.Integer({ default: 900, minimum: 1, description: 'Failures are counted for this long from a key\'s first one.' }),
        maxWaitSeconds: Type.Integer({ default: 900, minimum: 1, description: 'Longest backoff one key gets.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    quota: Type.Object(
      {
        services: Type.Integer({ default: 50000, minimum: 0, description: 'Microservices per project (QUOTA_SERVICE).' }),
        instances: Type.Integer({ default: 150000, minimum: 0, description: 'Instances per project (QUOTA_INSTANCE).' }),
        schemasPerService: Type.Integer({ default: 100, minimum: 0, description: 'Schemas per microservice (QUOTA_SCHEMA).' }),
        tagsPerService: Type.Integer({ default: 100, minimum: 0, description: 'Tags per microservice (QUOTA_TAG).' }),
        accounts: Type.Integer({ default: 1000, minimum: 0, description: 'RBAC accounts (QUOTA_ACCOUNT).' }),
        roles: Type.Integer({ default: 100, minimum: 0, description: 'RBAC roles (QUOTA_ROLE).' }),
        configs: Type.Integer({ default: 10000, minimum: 0, description: 'Config center kvs per domain (QUOTA_CONFIG).' }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** The validated, frozen configuration handed to `buildServer`. */
export type Config = Static<typeof ConfigSchema>;

/** Environment variables with names of their own (ServiceComb's, the issue tracker's) and the config keys they set. */
const ENV_ALIASES: Record<string, string> = {
  OPENSTAGE_ADMIN_PASSWORD: 'iam.adminPassword',
  OPENSTAGE_PROJECT_ID: 'iam.projectId',
  OPENSTAGE_ACCESS_KEY: 'iam.accessKey',
  OPENSTAGE_SECRET_KEY: 'iam.secretKey',
  OPENSTAGE_MASTER_KEY: 'secrets.masterKey',
  OPENSTAGE_RBAC: 'rbac.enabled',
  SC_INIT_ROOT_PASSWORD: 'rbac.rootPassword',
  OPENSTAGE_ROOT_PASSWORD: 'rbac.rootPassword',
  QUOTA_SERVICE: 'quota.services',
  QUOTA_INSTANCE: 'quota.instances',
  QUOTA_SCHEMA: 'quota.schemasPerService',
  QUOTA_TAG: 'quota.tagsPerService',
  QUOTA_ACCOUNT: 'quota.accounts',
  QUOTA_ROLE: 'quota.roles',
  QUOTA_CONFIG: 'quota.configs',
};

/** Thrown when the configuration is invalid; the message names the key path. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const upperSnake = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Every leaf key path of the schema with its environment variable name and schema. */
export function configKeys(): { path: string; env: string; schema: TSchema }[] {
  const keys: { path: string; env: string; schema: TSchema }[] = [];
  const walk = (obj: TObject, prefix: string[]): void => {
    for (const [name, schema] of Object.entries(obj.properties)) {
      if ((schema as TSchema).type === 'object' && (schema as TObject).properties) {
        walk(schema as TObject, [...prefix, name]);
      } else {
        keys.push({ path: [...prefix, name].join('.'), env: ['OPENSTAGE', ...[...prefix, name].map(upperSnake)].join('_'), schema: schema as TSchema });
      }
    }
  };
  walk(ConfigSchema, []);
  return keys;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function coerce(schema: TSchema, raw: string, source: string): unknown {
  if (schema.type === 'integer' || schema.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${source}: expected a number, got "${raw}"`);
    return n;
  }
  if (schema.type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${source}: expected a boolean, got "${raw}"`);
  }
  if (schema.type === 'array') {
    // A JSON array, or a comma-separated list (`OPENSTAGE_DEPLOY_SOURCE_ROOTS=/srv/a,/srv/b`).
    if (raw.trim().startsWith('[')) {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ConfigError(`${source}: expected a JSON array or a comma-separated list, got "${raw}"`);
      }
    }
    return raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
  }
  return raw;
}

/**
 * Builds the configuration from its sources and validates it once.
 * @param options.file path of a YAML file, or undefined
 * @param options.env environment variables (normally `process.env`, read only here)
 * @param options.flags key path → raw string value from the command line (e.g. `port` → "8080")
 * @param options.overrides already-typed values applied last (tests)
 * @throws ConfigError naming the key path of the first bad or unknown key
 */
export function loadConfig(options: {
  file?: string;
  env?: Record<string, string | undefined>;
  flags?: Record<string, string>;
  overrides?: Record<string, unknown>;
} = {}): Readonly<Config> {
  const merged: Record<string, unknown> = {};
  if (options.file) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(options.file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${options.file}: ${(err as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${options.file}: expected a mapping at the top level`);
      Object.assign(merged, parsed);
    }
  }
  const keys = configKeys();
  const env = options.env ?? {};
  for (const [alias, path] of Object.entries(ENV_ALIASES)) {
    const raw = env[alias];
    if (raw !== undefined && raw !== '') setPath(merged, path, coerce(keys.find((k) => k.path === path)!.schema, raw, alias));
  }
  for (const key of keys) {
    const raw = env[key.env];
    if (raw !== undefined && raw !== '') setPath(merged, key.path, coerce(key.schema, raw, key.env));
  }
  for (const [path, raw] of Object.entries(options.flags ?? {})) {
    const key = keys.find((k) => k.path === path);
    if (!key) throw new ConfigError(`unknown option "${path}"`);
    setPath(merged, path, coerce(key.schema, raw, `--${path}`));
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) setPath(merged, path, value);

  const withDefaults = Value.Default(ConfigSchema, Value.Clone(merged)) as Record<string, unknown>;
  const firstError = Value.Errors(ConfigSchema, withDefaults).First();
  if (firstError) {
    const path = firstError.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    throw new ConfigError(`config key "${path}": ${firstError.message}`);
  }
  // Relative directories are taken from the working directory of the start, once: a child
  // process (git, a build) runs elsewhere and must not resolve them again (issue #15: hosted git
  // failed with `--data-dir ./demo-data`).
  const config = withDefaults as Config;
  config.dataDir = resolvePath(config.dataDir);
  if (config.engines.dataDir) config.engines.dataDir = resolvePath(config.engines.dataDir);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
