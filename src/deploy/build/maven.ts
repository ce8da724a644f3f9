import { pathToFileURL } from 'node:url';

/**
 * The Maven settings file of confined builds when `deploy.mavenRepositories` names shared
 * repositories: each directory (laid out as a Maven local repository, e.g. an administrator's
 * `~/.m2/repository`) becomes a `file://` repository of an always-active profile, for
 * dependencies and plugins. Maven searches the settings' repositories before the POM's and
 * Maven Central ("Guide to Multiple Repositories"), so an artifact found there is copied into
 * the project's own local repository (`~/.m2/repository` in its HOME) without a download;
 * anything else is downloaded as usual. Builds see these directories read-only and never
 * write to them. Releases only: snapshots keep coming from where the POM says. A miss is
 * looked for again at the next build (update policy `always`: a directory read is cheap), so
 * what the administrator adds later is found.
 * Maven 3.8 has no second local repository (3.9's `maven.repo.local.tail`), hence a remote
 * one on the local disk; it is passed with `mvn -s`, so /etc/maven/settings.xml (an
 * administrator's mirrors and proxies) still applies.
 * @param repositories absolute host paths of the shared repositories, searched in this order
 * @returns the settings.xml text
 */
export function mavenSettings(repositories: string[]): string {
  const entries = repositories.map((dir, i) => {
    const url = escapeXml(pathToFileURL(dir).toString());
    return `<id>openstage-shared-${i + 1}</id><url>${url}</url><releases><enabled>true</enabled><updatePolicy>always</updatePolicy></releases><snapshots><enabled>false</enabled></snapshots>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Written by OpenStage for each build (deploy.mavenRepositories); read-only to the build. -->',
    '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">',
    '  <profiles>',
    '    <profile>',
    '      <id>openstage-shared-repositories</id>',
    '      <repositories>',
    ...entries.map((e) => `        <repository>${e}</repository>`),
    '      </repositories>',
    '      <pluginRepositories>',
    ...entries.map((e) => `        <pluginRepository>${e}</pluginRepository>`),
    '      </pluginRepositories>',
    '    </profile>',
    '  </profiles>',
    '  <activeProfiles><activeProfile>openstage-shared-repositories</activeProfile></activeProfiles>',
    '</settings>',
    '',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}
