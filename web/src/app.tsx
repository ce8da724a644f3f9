import { AppShell, Burger, Group, NavLink, ScrollArea, Select, Text, Button, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense } from 'react';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router';
import { useSession } from './session';
import { Loading } from './ui';
import { SignIn } from './pages/sign-in';
import { Overview } from './pages/overview';

const Environments = lazy(() => import('./pages/environments').then((m) => ({ default: m.Environments })));
const EnvironmentPage = lazy(() => import('./pages/environments').then((m) => ({ default: m.EnvironmentPage })));
const Applications = lazy(() => import('./pages/applications').then((m) => ({ default: m.Applications })));
const ApplicationPage = lazy(() => import('./pages/applications').then((m) => ({ default: m.ApplicationPage })));
const Components = lazy(() => import('./pages/applications').then((m) => ({ default: m.Components })));
const ComponentPage = lazy(() => import('./pages/component').then((m) => ({ default: m.ComponentPage })));
const Configs = lazy(() => import('./pages/configs').then((m) => ({ default: m.Configs })));
const ConfigPage = lazy(() => import('./pages/configs').then((m) => ({ default: m.ConfigPage })));
const Stacks = lazy(() => import('./pages/stacks').then((m) => ({ default: m.Stacks })));
const Addons = lazy(() => import('./pages/stacks').then((m) => ({ default: m.Addons })));
const Git = lazy(() => import('./pages/git').then((m) => ({ default: m.Git })));
const RepoPage = lazy(() => import('./pages/git').then((m) => ({ default: m.RepoPage })));
const Microservices = lazy(() => import('./pages/registry').then((m) => ({ default: m.Microservices })));
const MicroservicePage = lazy(() => import('./pages/registry').then((m) => ({ default: m.MicroservicePage })));
const Kie = lazy(() => import('./pages/kie').then((m) => ({ default: m.Kie })));
const KvPage = lazy(() => import('./pages/kie').then((m) => ({ default: m.KvPage })));
const Engines = lazy(() => import('./pages/engines').then((m) => ({ default: m.Engines })));

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/environments', 'Environments'],
  ['/applications', 'Applications'],
  ['/components', 'Components'],
  ['/configs', 'Configuration'],
  ['/stacks', 'Runtime stacks'],
  ['/addons', 'Add-ons'],
  ['/git', 'Git repositories'],
  ['/microservices', 'Microservices'],
  ['/kie', 'Config center'],
  ['/engines', 'Engines'],
];

export function App() {
  const session = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  if (session.mode === 'loading') return <Loading />;
  if (!session.signedIn) return <SignIn />;
  const active = (path: string) => (path === '/' ? location.pathname === '/' : location.pathname.startsWith(path));
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 210, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="menu" />
            <Text fw={700} size="lg" component={Link} to="/">
              OpenStage
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Select
              aria-label="project"
              data-testid="project-select"
              size="xs"
              w={{ base: 130, sm: 220 }}
              allowDeselect={false}
              data={session.projects.map((p) => ({ value: p.id, label: p.name }))}
              value={session.projectId}
              onChange={(v) => v && void session.selectProject(v)}
            />
            <Tooltip label={session.expiresAtMs ? `session ends ${new Date(session.expiresAtMs).toLocaleString()}` : 'no sign-in (--auth none)'}>
              <Text size="sm" visibleFrom="sm" data-testid="user">
                {session.userName}
              </Text>
            </Tooltip>
            {session.mode === 'iam' && (
              <Button size="xs" variant="default" onClick={() => void session.signOut()} data-testid="sign-out">
                Sign out
              </Button>
            )}
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <ScrollArea>
          {NAV.map(([path, label]) => (
            <NavLink key={path} component={Link} to={path} label={label} active={active(path)} onClick={close} />
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        {session.projectId ? (
          <Suspense fallback={<Loading />}>
            <Routes key={session.projectId}>
              <Route path="/" element={<Overview />} />
              <Route path="/environments" element={<Environments />} />
              <Route path="/environments/:id" element={<EnvironmentPage />} />
              <Route path="/applications" element={<Applications />} />
              <Route path="/applications/:id" element={<ApplicationPage />} />
              <Route path="/components" element={<Components />} />
              <Route path="/applications/:appId/components/:id" element={<ComponentPage />} />
              <Route path="/configs" element={<Configs />} />
              <Route path="/configs/:id" element={<ConfigPage />} />
              <Route path="/stacks" element={<Stacks />} />
              <Route path="/addons" element={<Addons />} />
              <Route path="/git" element={<Git />} />
              <Route path="/git/:namespace/:repo" element={<RepoPage />} />
              <Route path="/microservices" element={<Microservices />} />
              <Route path="/microservices/:id" element={<MicroservicePage />} />
              <Route path="/kie" element={<Kie />} />
              <Route path="/kie/:id" element={<KvPage />} />
              <Route path="/engines" element={<Engines />} />
              <Route path="*" element={<Navigate to="/" replace />} />
            </Routes>
          </Suspense>
        ) : (
          <Text>This user is a member of no project.</Text>
        )}
      </AppShell.Main>
    </AppShell>
  );
}
