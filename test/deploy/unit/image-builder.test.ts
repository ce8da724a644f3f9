import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildError } from '../../../src/deploy/build/run.js';
import { clusterImageRepository, stackContainerfile } from '../../../src/deploy/container/image-builder.js';

describe('stackContainerfile', () => {
  const cases: [string, Parameters<typeof stackContainerfile>, string[]][] = [
    ['Java', ['Java', 'eclipse-temurin:17-jre', { command: 'java', args: ['-jar', 'target/app.jar'] }], ['FROM eclipse-temurin:17-jre', 'WORKDIR /app', 'COPY . /app/', 'CMD ["java","-jar","target/app.jar"]']],
    ['Nodejs', ['Nodejs', 'node:20', { command: 'npm', args: ['start', '--silent'] }], ['FROM node:20', 'WORKDIR /app', 'COPY . /app/', 'CMD ["npm","start","--silent"]']],
    ['Python', ['Python', 'python:3.11-slim', { command: '.venv/bin/python', args: ['-u', 'app.py'] }, 'python3.11'], ['FROM python:3.11-slim', 'WORKDIR /app', 'COPY . /app/', 'ENV PYTHONPATH=/app/.venv/lib/python3.11/site-packages', 'CMD ["python3","-u","app.py"]']],
    ['Go', ['Go', 'debian:bookworm-slim', { command: './app', args: [] }], ['FROM debian:bookworm-slim', 'WORKDIR /app', 'COPY . /app/', 'CMD ["/app/app"]']],
    ['Tomcat', ['Tomcat', 'tomcat:10.1', { command: 'catalina.sh', args: ['run'], war: 'target/shop.war' }], ['FROM tomcat:10.1', 'COPY ["target/shop.war","${CATALINA_HOME:-/usr/local/tomcat}/webapps/ROOT.war"]']],
  ];
  for (const [stack, args, lines] of cases) {
    it(`assembles a ${stack} image with no RUN step`, () => {
      const text = stackContainerfile(...args);
      assert.deepEqual(text.split('\n').filter((l) => l && !l.startsWith('#')), lines);
    });
  }

  it('keeps a start argument in exec form (a quote or bracket in package.json main cannot add an instruction)', () => {
    assert.throws(() => stackContainerfile('Nodejs', 'node:20', { command: 'node', args: ['x"]\nRUN evil'] }), BuildError);
    assert.throws(() => stackContainerfile('Tomcat', 'tomcat:10', { command: 'catalina.sh', args: [], war: 'a\rb.war' }), BuildError);
    assert.match(stackContainerfile('Nodejs', 'node:20', { command: 'node', args: ['we"ird].js'] }), /^CMD \["node","we\\"ird]\.js"\]$/m);
  });

  it('refuses a stack without a base image and a base that is no reference', () => {
    assert.throws(() => stackContainerfile('Cobol', 'x:1', { command: 'x', args: [] }), /runtime stack type 'Cobol'/);
    assert.throws(() => stackContainerfile('Java', 'a b', { command: 'java', args: [] }), /not an image reference/);
  });
});

describe('clusterImageRepository', () => {
  it('is <server>/<namespace>/<application>-<component>, names cleaned', () => {
    assert.equal(clusterImageRepository({ applicationName: 'Shop', componentName: 'Orders_API' }, { server: 'swr.cn-north-4.myhuaweicloud.com', namespace: 'Team' }), 'swr.cn-north-4.myhuaweicloud.com/team/shop-orders-api');
    assert.equal(clusterImageRepository({ applicationName: 'a', componentName: 'b' }, { server: 'https://127.0.0.1:5000/', namespace: '' }), '127.0.0.1:5000/a-b');
    assert.equal(clusterImageRepository({ applicationName: 'a', componentName: 'b' }, { server: '127.0.0.1:5000', namespace: 'x/y' }), '127.0.0.1:5000/x/y/a-b');
  });

  it('refuses a server that is no registry host', () => {
    assert.throws(() => clusterImageRepository({ applicationName: 'a', componentName: 'b' }, { server: 'not a host', namespace: 'n' }), /do not make an image name/);
  });
});
