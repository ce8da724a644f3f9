import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { messageOf } from '../api';
import { useSession } from '../session';

/** Sign-in with an IAM user name and password (the server runs with --auth iam). */
export function SignIn() {
  const session = useSession();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useForm({
    initialValues: { userName: '', password: '', domain: '' },
    validate: {
      userName: (v) => (v.trim() ? null : 'Enter your user name'),
      password: (v) => (v ? null : 'Enter your password'),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setBusy(true);
    setError('');
    try {
      await session.signIn(v.userName.trim(), v.password, v.domain.trim() || undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  });
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={380} maw="100%">
        <form onSubmit={submit} noValidate>
          <Stack>
            <Title order={2}>OpenStage</Title>
            <Text c="dimmed" size="sm">
              Sign in with your IAM user name and password.
            </Text>
            {session.endedMessage && (
              <Alert color="yellow" data-testid="session-message">
                {session.endedMessage}
              </Alert>
            )}
            {error && (
              <Alert color="red" data-testid="error">
                {error}
              </Alert>
            )}
            <TextInput label="User name" autoComplete="username" {...form.getInputProps('userName')} />
            <PasswordInput label="Password" autoComplete="current-password" {...form.getInputProps('password')} />
            <TextInput label="Account (domain)" description="Only when several accounts have this user name" {...form.getInputProps('domain')} />
            <Button type="submit" loading={busy} data-testid="sign-in">
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
