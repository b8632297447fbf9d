import { TranslatableString, type IconButtonProps, type TemplatesType } from '@rjsf/utils';

// rjsf's default array buttons (add, remove, move, copy, clear) draw a Bootstrap 3 glyphicon,
// a font this app does not load: they showed as empty boxes. These show their name as text.
function textButton(label: TranslatableString, symbol: string, extraClass = '') {
  return function TextButton({ className, iconType, icon, uiSchema, registry, ...button }: IconButtonProps) {
    const text = registry.translateString(label);
    return (
      <button
        type="button"
        {...button}
        title={button.title ?? text}
        className={`btn btn-${iconType ?? 'default'} ${extraClass} ${className ?? ''}`}
      >
        <span aria-hidden="true">{symbol}</span> {text}
      </button>
    );
  };
}

/** The button templates the generated form uses (rjsf `templates.ButtonTemplates`). */
export const formButtons: Partial<TemplatesType['ButtonTemplates']> = {
  AddButton: textButton(TranslatableString.AddItemButton, '+', 'btn-add'),
  RemoveButton: textButton(TranslatableString.RemoveButton, '×', 'btn-remove'),
  MoveUpButton: textButton(TranslatableString.MoveUpButton, '↑'),
  MoveDownButton: textButton(TranslatableString.MoveDownButton, '↓'),
  CopyButton: textButton(TranslatableString.CopyButton, '⧉'),
  ClearButton: textButton(TranslatableString.ClearButton, '×'),
};
