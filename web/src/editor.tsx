import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { StreamLanguage } from '@codemirror/language';
import { properties } from '@codemirror/legacy-modes/mode/properties';
import CodeMirror from '@uiw/react-codemirror';

// The text editor of config files and kv values, with syntax highlighting for YAML, JSON and
// .properties. Loaded on demand (CodeMirror is the largest part of the bundle).

const LANGUAGES: Record<string, () => any> = {
  yaml: () => yaml(),
  json: () => json(),
  properties: () => StreamLanguage.define(properties),
};

export default function Editor({ value, onChange, language, readOnly, height = '320px' }: { value: string; onChange?: (v: string) => void; language: string; readOnly?: boolean; height?: string }) {
  const lang = LANGUAGES[language];
  return (
    <div data-testid="editor" data-language={language} style={{ border: '1px solid var(--mantine-color-gray-4)', borderRadius: 4 }}>
      <CodeMirror value={value} height={height} extensions={lang ? [lang()] : []} onChange={onChange} readOnly={readOnly} basicSetup={{ foldGutter: false }} />
    </div>
  );
}
