import { Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { nameProblem } from '../names';

/** What the create dialog asks for. */
export interface ICreateValues {
  name: string;
  title: string;
  description: string;
  /** Upload the files a non-empty folder already holds into the new project. */
  adopt?: boolean;
}

/** The body of the create dialog: a small form, with the server's error when it refused. */
export class CreateProjectBody extends ReactWidget {
  constructor(
    private _projectsDir: string,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-pfb-createForm');
  }

  /** The values typed so far (trimmed title and description). */
  getValue(): ICreateValues {
    const values = {
      name: this._values.name,
      title: this._values.title.trim(),
      description: this._values.description.trim()
    };
    return this._adopt ? { ...values, adopt: true } : values;
  }

  /** Ask whether the files already in the project's folder go into the new project;
   * "Upload them" calls `onAdopt` (the dialog sends the form again, with adopt). */
  askAdopt(folder: string, files: number): void {
    this._adoptQuestion = { folder, files };
    this._adopt = false;
    this.update();
  }

  /** Called when the user agrees to upload the folder's files. */
  onAdopt: (() => void) | null = null;

  /** Show the server's reason for refusing; it stays until the name changes. */
  setError(message: string | null): void {
    this._error = message;
    this._touched = true;
    this.update();
  }

  /** Whether the form can be sent; shows the problem when not. */
  validate(): boolean {
    this._touched = true;
    this.update();
    return nameProblem(this._values.name, this._trans) === null;
  }

  set busy(value: boolean) {
    this._busy = value;
    this.update();
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const problem = this._touched ? nameProblem(this._values.name, trans) : null;
    const error = problem ?? this._error;
    const set = (key: keyof ICreateValues) => (
      event: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>
    ) => {
      this._values = { ...this._values, [key]: event.target.value };
      if (key === 'name') {
        this._error = null;
        this._adoptQuestion = null;
        this._adopt = false;
        this._touched = this._values.name.length > 0 || this._touched;
      }
      this.update();
    };
    const folder = this._values.name ? `${this._projectsDir}/${this._values.name}` : `${this._projectsDir}/…`;
    return (
      <div className="jp-pfb-form">
        <label htmlFor="jp-pfb-create-name">{trans.__('Name')}</label>
        <input
          id="jp-pfb-create-name"
          className={`jp-mod-styled jp-pfb-input${error ? ' jp-pfb-mod-invalid' : ''}`}
          value={this._values.name}
          onChange={set('name')}
          placeholder={trans.__('my-analysis')}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby="jp-pfb-create-name-help"
          disabled={this._busy}
        />
        <div
          id="jp-pfb-create-name-help"
          className={error ? 'jp-pfb-formError' : 'jp-pfb-formHelp'}
          role={error ? 'alert' : undefined}
        >
          {error ?? trans.__('Its folder will be %1.', folder)}
        </div>
        {this._adoptQuestion && (
          <div className="jp-pfb-adoptQuestion" role="alert">
            <span>
              {trans._n(
                'The folder %2 exists with %1 file: upload them into the new project?',
                'The folder %2 exists with %1 files: upload them into the new project?',
                this._adoptQuestion.files,
                this._adoptQuestion.folder
              )}
            </span>
            <button
              type="button"
              className="jp-mod-styled jp-mod-accept jp-pfb-adoptButton"
              disabled={this._busy}
              onClick={() => {
                this._adopt = true;
                this.onAdopt?.();
              }}
            >
              {trans.__('Upload them')}
            </button>
          </div>
        )}
        <label htmlFor="jp-pfb-create-title">
          {trans.__('Title')} <span className="jp-pfb-optional">{trans.__('(optional)')}</span>
        </label>
        <input
          id="jp-pfb-create-title"
          className="jp-mod-styled jp-pfb-input"
          value={this._values.title}
          onChange={set('title')}
          placeholder={trans.__('My analysis')}
          maxLength={256}
          disabled={this._busy}
        />
        <label htmlFor="jp-pfb-create-description">
          {trans.__('Description')}{' '}
          <span className="jp-pfb-optional">{trans.__('(optional)')}</span>
        </label>
        <textarea
          id="jp-pfb-create-description"
          className="jp-mod-styled jp-pfb-input"
          value={this._values.description}
          onChange={set('description')}
          rows={3}
          disabled={this._busy}
        />
      </div>
    );
  }

  private _values: ICreateValues = { name: '', title: '', description: '' };
  private _adoptQuestion: { folder: string; files: number } | null = null;
  private _adopt = false;
  private _error: string | null = null;
  private _touched = false;
  private _busy = false;
}

/**
 * A dialog whose accept button runs `submit` first and closes only when it succeeds;
 * a failure is shown in the dialog, which stays open with what was typed.
 */
export class SubmitDialog<T> extends Dialog<T> {
  constructor(
    options: Partial<Dialog.IOptions<T>> & { buttons: ReadonlyArray<Dialog.IButton> },
    private _submit: () => Promise<boolean>
  ) {
    super(options);
    this._buttonList = options.buttons;
    this._defaultIndex = options.defaultButton ?? options.buttons.length - 1;
  }

  resolve(index?: number): void {
    const i = index ?? this._defaultIndex;
    const button = this._buttonList[i];
    if (button === undefined || !button.accept) {
      super.resolve(i);
      return;
    }
    if (this._submitting) {
      return;
    }
    this._submitting = true;
    this._setButtonsDisabled(true);
    this._submit()
      .then(ok => {
        if (ok) {
          super.resolve(i);
        }
      })
      .finally(() => {
        this._submitting = false;
        if (!this.isDisposed) {
          this._setButtonsDisabled(false);
        }
      });
  }

  private _setButtonsDisabled(disabled: boolean): void {
    this.node
      .querySelectorAll<HTMLButtonElement>('.jp-Dialog-footer button.jp-mod-accept')
      .forEach(button => {
        button.disabled = disabled;
      });
  }

  private _buttonList: ReadonlyArray<Dialog.IButton>;
  private _defaultIndex: number;
  private _submitting = false;
}
