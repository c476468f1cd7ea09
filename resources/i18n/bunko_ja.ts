<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP" sourcelanguage="en">
<context>
    <name>App</name>
    <message>
        <location filename="../../desktop/app.py" line="+96"/>
        <source>Something went wrong</source>
        <translation>問題が発生しました</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko hit an unexpected problem.

{error}

The details are in the log: {log}</source>
        <translation>Bunko で予期しない問題が発生しました。

{error}

詳細はログに記録されています: {log}</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>Loading the chat model…</source>
        <translation>チャットモデルを読み込んでいます…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Ready</source>
        <translation>準備完了</translation>
    </message>
    <message>
        <location line="+51"/>
        <location line="+8"/>
        <source>Bunko cannot start</source>
        <translation>Bunko を起動できません</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>The Bunko database is in use by another program, so Bunko cannot open it.

{details}</source>
        <translation>Bunko のデータベースを別のプログラムが使用中のため、開けません。

{details}</translation>
    </message>
</context>
<context>
    <name>AppContext</name>
    <message>
        <location filename="../../desktop/context.py" line="+39"/>
        <source>Bunko</source>
        <translation>Bunko</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Something went wrong</source>
        <translation>問題が発生しました</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko hit an unexpected problem and stopped that task; the app keeps running.

{error}

The details are in the log: {log}</source>
        <translation>Bunko で予期しない問題が発生したため、その処理を中止しました。アプリはそのまま使用できます。

{error}

詳細はログに記録されています: {log}</translation>
    </message>
</context>
<context>
    <name>ChatInput</name>
    <message>
        <location filename="../../desktop/chat/input_box.py" line="+20"/>
        <source>Ask a question… (Enter sends, Shift+Enter for a new line)</source>
        <translation>質問を入力… (Enter で送信、Shift+Enter で改行)</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <location filename="../../desktop/chat/page.py" line="+53"/>
        <location line="+284"/>
        <source>Send</source>
        <translation>送信</translation>
    </message>
    <message>
        <location line="-282"/>
        <location line="+284"/>
        <source>Send the question (Enter)</source>
        <translation>質問を送信します (Enter)</translation>
    </message>
    <message>
        <location line="-226"/>
        <source>Stopping the answer…</source>
        <translation>回答を停止しています…</translation>
    </message>
    <message>
        <location line="+174"/>
        <source>Loading the chat model…</source>
        <translation>チャットモデルを読み込んでいます…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Model loaded: {name}</source>
        <translation>モデルを読み込みました: {name}</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>an unexpected error</source>
        <translation>予期しないエラー</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the answer; what it wrote so far is kept</source>
        <translation>回答を停止します。それまでに生成された内容は残ります</translation>
    </message>
</context>
<context>
    <name>CitationPreview</name>
    <message>
        <location filename="../../desktop/chat/citation_preview.py" line="+71"/>
        <source>Source [{n}]: {name}</source>
        <translation>出典 [{n}]: {name}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Library: {name}</source>
        <translation>ライブラリ: {name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Location: {where}</source>
        <translation>場所: {where}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Open file</source>
        <translation>ファイルを開く</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open {path} in its usual program</source>
        <translation>{path} を既定のアプリで開きます</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>The file is no longer there: {path}</source>
        <translation>ファイルが見つかりません: {path}</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <location filename="../../desktop/chat/conversation_list.py" line="+48"/>
        <source>Search chats</source>
        <translation>チャットを検索</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start a new conversation</source>
        <translation>新しい会話を始めます</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rename</source>
        <translation>名前を変更</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Delete</source>
        <translation>削除</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>{title}
{n} messages · {when:%Y-%m-%d %H:%M}</source>
        <translation>{title}
メッセージ {n} 件 · {when:%Y-%m-%d %H:%M}</translation>
    </message>
    <message>
        <location line="+72"/>
        <source>Delete chat</source>
        <translation>チャットを削除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete the chat “{title}” and all its messages? This cannot be undone.</source>
        <translation>チャット「{title}」とそのすべてのメッセージを削除しますか? この操作は元に戻せません。</translation>
    </message>
</context>
<context>
    <name>IndexProgressPanel</name>
    <message>
        <location filename="../../desktop/library/progress.py" line="+42"/>
        <location line="+39"/>
        <location line="+27"/>
        <source>Pause</source>
        <translation>一時停止</translation>
    </message>
    <message>
        <location line="-64"/>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <location line="+33"/>
        <location line="+11"/>
        <source>Indexing {name}…</source>
        <translation>{name} をインデックス作成中…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Looking for new and changed files…</source>
        <translation>新しいファイルと変更されたファイルを探しています…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Files: {done} / {total}</source>
        <translation>ファイル: {done} / {total}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>({failed} failed)</source>
        <translation>({failed} 件失敗)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Chunks: {n}</source>
        <translation>チャンク: {n}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{rate} chunks/s</source>
        <translation>{rate} チャンク/秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Finishing…</source>
        <translation>仕上げ処理中…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{time} left</source>
        <translation>残り {time}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>(stopping…)</source>
        <translation>(停止中…)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Paused — {name}</source>
        <translation>一時停止中 — {name}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume continues where it stopped; nothing indexed so far is lost.</source>
        <translation>再開すると中断した所から続行します。作成済みのインデックスは失われません。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Resume</source>
        <translation>再開</translation>
    </message>
</context>
<context>
    <name>LibrariesPage</name>
    <message>
        <location filename="../../desktop/library/page.py" line="+109"/>
        <source>Add folder…</source>
        <translation>フォルダーを追加…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re-index now</source>
        <translation>今すぐ再インデックス</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove…</source>
        <translation>削除…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko answers from the documents in these folders. Add a folder with the button, or drop folders onto this page.</source>
        <translation>Bunko はこれらのフォルダー内の文書をもとに回答します。ボタンでフォルダーを追加するか、このページにフォルダーをドロップしてください。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Folder</source>
        <translation>フォルダー</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Documents</source>
        <translation>文書</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Chunks</source>
        <translation>チャンク</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Skipped</source>
        <translation>スキップ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Last update</source>
        <translation>最終更新</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Watch</source>
        <translation>監視</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Last error</source>
        <translation>最後のエラー</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Re-index the folder by itself while Bunko is open, so new and changed files are found.</source>
        <translation>Bunko の起動中はフォルダーを自動で再インデックスし、新しいファイルや変更されたファイルを取り込みます。</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Add a folder of documents</source>
        <translation>文書のフォルダーを追加</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Remove library</source>
        <translation>ライブラリを削除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove the library “{name}” from Bunko?

Its index is deleted. The folder {folder} and the files in it stay on disk, untouched.</source>
        <translation>ライブラリ「{name}」を Bunko から削除しますか?

インデックスは削除されます。フォルダー {folder} とその中のファイルはディスク上にそのまま残ります。</translation>
    </message>
    <message>
        <location line="+68"/>
        <source>not yet</source>
        <translation>未実施</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re-index every {n} s while Bunko is open</source>
        <translation>Bunko の起動中は {n} 秒ごとに再インデックス</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>Adding {folder}…</source>
        <translation>{folder} を追加しています…</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Removed the library {name}; its folder is untouched.</source>
        <translation>ライブラリ {name} を削除しました。フォルダーはそのままです。</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>{name} is indexed: {added} added, {updated} updated, {removed} removed, {failed} failed.</source>
        <translation>{name} のインデックス作成が完了しました: 追加 {added} 件、更新 {updated} 件、削除 {removed} 件、失敗 {failed} 件。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Indexing {name} stopped.</source>
        <translation>{name} のインデックス作成を停止しました。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Indexing {name} failed: {error}</source>
        <translation>{name} のインデックス作成に失敗しました: {error}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Indexing {name} is paused.</source>
        <translation>{name} のインデックス作成を一時停止しました。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/main_window.py" line="+136"/>
        <location line="+217"/>
        <source>This page is not available in this build.</source>
        <translation>このページはこのビルドでは利用できません。</translation>
    </message>
    <message>
        <location line="-146"/>
        <source>No model loaded</source>
        <translation>モデル未読み込み</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Model: {name}</source>
        <translation>モデル: {name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>adapter {name}</source>
        <translation>アダプター {name}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>GPU: {layers}</source>
        <translation>GPU: {layers}</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Scanning {library}…</source>
        <translation>{library} をスキャン中…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{library} is up to date</source>
        <translation>{library} は最新です</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Indexing {library}: {done}/{total} files</source>
        <translation>{library} をインデックス作成中: {done}/{total} ファイル</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>about {n} min left</source>
        <translation>残り約 {n} 分</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>about {n} s left</source>
        <translation>残り約 {n} 秒</translation>
    </message>
    <message>
        <location line="+51"/>
        <source>Choose a folder of documents</source>
        <translation>文書のフォルダーを選択</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Choose a model file</source>
        <translation>モデルファイルを選択</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF モデル (*.gguf);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+39"/>
        <source>About Bunko</source>
        <translation>Bunko について</translation>
    </message>
    <message>
        <location line="-35"/>
        <source>CUDA build (can use an NVIDIA GPU)</source>
        <translation>CUDA 版 (NVIDIA GPU を使用可能)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>CPU build</source>
        <translation>CPU 版</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;br&gt;This computer has an NVIDIA GPU, which this build does not use. The CUDA build of Bunko (the download whose name ends in &lt;i&gt;-cuda&lt;/i&gt;) answers much faster with it.</source>
        <translation>&lt;br&gt;このコンピューターには NVIDIA GPU がありますが、このビルドは使いません。CUDA 版の文庫（名前が &lt;i&gt;-cuda&lt;/i&gt; で終わるダウンロード）なら、GPU を使ってずっと速く答えます。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&lt;h3&gt;Bunko (文庫) {version}&lt;/h3&gt;&lt;p&gt;{build}&lt;/p&gt;&lt;p&gt;Chat privately with local language models about your own documents. Nothing leaves this computer.&lt;/p&gt;&lt;p&gt;Licence: Apache-2.0&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Bunko (文庫) {version}&lt;/h3&gt;&lt;p&gt;{build}&lt;/p&gt;&lt;p&gt;お手元の文書について、ローカルの言語モデルと安全にチャットできます。データがこのコンピューターの外に送られることはありません。&lt;/p&gt;&lt;p&gt;ライセンス: Apache-2.0&lt;/p&gt;</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Bunko</source>
        <translation>Bunko</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chat</source>
        <translation>チャット</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Libraries</source>
        <translation>ライブラリ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Models</source>
        <translation>モデル</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Chat</source>
        <translation>チャット(&amp;C)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Search conversations</source>
        <translation>会話を検索</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop answer</source>
        <translation>回答を停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+6"/>
        <source>Add folder…</source>
        <translation>フォルダーを追加…</translation>
    </message>
    <message>
        <location line="-5"/>
        <source>Add model…</source>
        <translation>モデルを追加…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings…</source>
        <translation>設定…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quit</source>
        <translation>終了</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add a folder to ask questions about your documents.</source>
        <translation>フォルダーを追加すると、その文書について質問できます。</translation>
    </message>
</context>
<context>
    <name>MessageView</name>
    <message>
        <location filename="../../desktop/chat/message_view.py" line="+61"/>
        <source>You</source>
        <translation>あなた</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Bunko</source>
        <translation>Bunko</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>The model did not cite; these sources match its words</source>
        <translation>モデルは出典を示しませんでした。回答内容に一致する出典です</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Send again</source>
        <translation>再送信</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Copy</source>
        <translation>コピー</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Copy this message</source>
        <translation>このメッセージをコピー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Regenerate</source>
        <translation>再生成</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Answer this question again</source>
        <translation>この質問にもう一度回答させます</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Edit</source>
        <translation>編集</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Change this question and send it again</source>
        <translation>この質問を編集して再送信します</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Bunko · {model}</source>
        <translation>Bunko · {model}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Answering…</source>
        <translation>回答中…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Stopped before the end.</source>
        <translation>途中で停止しました。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This answer failed: {reason}</source>
        <translation>回答に失敗しました: {reason}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This answer failed.</source>
        <translation>回答に失敗しました。</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Sources ({n})</source>
        <translation>出典 ({n})</translation>
    </message>
</context>
<context>
    <name>ModelSettingsPanel</name>
    <message>
        <location filename="../../desktop/models/settings_panel.py" line="+119"/>
        <source>Auto</source>
        <translation>自動</translation>
    </message>
    <message>
        <location line="-22"/>
        <source>How many layers run on the graphics card. Auto puts as many as fit; 0 keeps the whole model on the CPU.</source>
        <translation>GPU で処理するレイヤー数です。「自動」では収まるだけ GPU に載せ、0 ではモデル全体を CPU で処理します。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source> tokens</source>
        <translation> トークン</translation>
    </message>
    <message>
        <location line="-18"/>
        <source>CPU threads. Auto uses one per physical core.</source>
        <translation>CPU スレッド数です。「自動」では物理コアごとに 1 つ使います。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>These apply the next time a model is loaded.</source>
        <translation>これらの設定は次にモデルを読み込んだときに適用されます。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reload model</source>
        <translation>モデルを再読み込み</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Load the current model again with these settings.</source>
        <translation>現在のモデルをこの設定で読み込み直します。</translation>
    </message>
    <message>
        <location line="-19"/>
        <source>0 always picks the likeliest word; higher values vary more.</source>
        <translation>0 では常に最も確率の高い語を選びます。値を大きくするほど回答に変化が出ます。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Above 1 makes the model repeat itself less; 1 turns it off.</source>
        <translation>1 より大きくすると繰り返しが減ります。1 で無効になります。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The longest answer, in tokens.</source>
        <translation>回答の最大長 (トークン数) です。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Restore defaults</source>
        <translation>既定値に戻す</translation>
    </message>
    <message>
        <location line="-31"/>
        <source>Loading</source>
        <translation>読み込み</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>GPU layers:</source>
        <translation>GPU レイヤー数:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Context size:</source>
        <translation>コンテキスト長:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Threads:</source>
        <translation>スレッド数:</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Answers</source>
        <translation>回答</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>How much text the model sees at once: question, sources and answer. Auto uses the model&apos;s own size, at most 8,192 tokens.</source>
        <translation>モデルが一度に扱えるテキスト量 (質問・出典・回答の合計) です。「自動」ではモデル本来のサイズ (最大 8,192 トークン) を使います。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Temperature:</source>
        <translation>温度 (Temperature):</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-p:</source>
        <translation>Top-p:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Choose only among the likeliest words that together reach this probability.</source>
        <translation>確率の高い語から順に、合計がこの確率に達するまでの語だけから選びます。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-k:</source>
        <translation>Top-k:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Choose only among this many likeliest words; 0 turns this filter off.</source>
        <translation>確率の高い上位この数の語だけから選びます。0 にするとこのフィルターは無効になります。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Min-p:</source>
        <translation>Min-p:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Leave out words less likely than this share of the likeliest one.</source>
        <translation>最も確率の高い語に対してこの割合より確率の低い語を除外します。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Repeat penalty:</source>
        <translation>繰り返しペナルティ:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Longest answer:</source>
        <translation>最大回答長:</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <location filename="../../desktop/models/page.py" line="+123"/>
        <source>Chat models and LoRA adapters in GGUF format. Add a file with the button or drop .gguf files onto this page; Bunko keeps them where they are.</source>
        <translation>GGUF 形式のチャットモデルと LoRA アダプターです。ボタンでファイルを追加するか、.gguf ファイルをこのページにドロップしてください。ファイルは元の場所のまま使用します。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add GGUF file…</source>
        <translation>GGUF ファイルを追加…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Load</source>
        <translation>読み込む</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove…</source>
        <translation>削除…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Size</source>
        <translation>サイズ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Quantization</source>
        <translation>量子化</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Context</source>
        <translation>コンテキスト</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Chat template</source>
        <translation>チャットテンプレート</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Base model</source>
        <translation>ベースモデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In use</source>
        <translation>使用中</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Add a GGUF model or adapter</source>
        <translation>GGUF モデルまたはアダプターを追加</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF モデル (*.gguf);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Loading {name}…</source>
        <translation>{name} を読み込んでいます…</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Bunko made this file, so it is deleted too: {path}</source>
        <translation>このファイルは Bunko が作成したため、あわせて削除されます: {path}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your file is not deleted: {path}</source>
        <translation>お使いのファイルは削除されません: {path}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove model</source>
        <translation>モデルを削除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove “{name}” from Bunko&apos;s list?</source>
        <translation>「{name}」を Bunko の一覧から削除しますか?</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Adapter</source>
        <translation>アダプター</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Model (built in)</source>
        <translation>モデル (内蔵)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Loaded</source>
        <translation>読み込み済み</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Attached ({scale:g}×)</source>
        <translation>適用中 ({scale:g}×)</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>The built-in model cannot be removed.</source>
        <translation>内蔵モデルは削除できません。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>{file} is a LoRA adapter, and Bunko has no model to attach it to. Add its base model first.</source>
        <translation>{file} は LoRA アダプターですが、適用先のモデルがありません。先にベースモデルを追加してください。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Which model is this adapter for?</source>
        <translation>このアダプターはどのモデル用ですか?</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{file} is a LoRA adapter. Choose the model it was trained on:</source>
        <translation>{file} は LoRA アダプターです。学習に使用したモデルを選択してください:</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Added {name}.</source>
        <translation>{name} を追加しました。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Removed {name} from the list.</source>
        <translation>{name} を一覧から削除しました。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>{name} is loaded.</source>
        <translation>{name} を読み込みました。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>No model is loaded. Select one and press Load; a chat also loads its model when it first needs it.</source>
        <translation>モデルが読み込まれていません。モデルを選んで「読み込む」を押してください。チャットでも必要になった時点でモデルが読み込まれます。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{model} with the adapter {adapter}</source>
        <translation>{model} (アダプター {adapter})</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Loaded: {name}. Context {n_ctx} tokens, {threads} threads, GPU offload: {offload}.</source>
        <translation>読み込み済み: {name}。コンテキスト {n_ctx} トークン、{threads} スレッド、GPU オフロード: {offload}。</translation>
    </message>
</context>
<context>
    <name>OptionsBar</name>
    <message>
        <location filename="../../desktop/chat/chat_options.py" line="+67"/>
        <source>Model alone</source>
        <translation>モデルのみ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Libraries (RAG)</source>
        <translation>ライブラリ (RAG)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>LoRA adapter</source>
        <translation>LoRA アダプター</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Libraries + LoRA adapter</source>
        <translation>ライブラリ + LoRA アダプター</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Where answers come from</source>
        <translation>回答の根拠</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>LoRA adapter (trained for the selected model)</source>
        <translation>LoRA アダプター (選択したモデル用に学習したもの)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>How strongly the adapter changes the model (1.0 = as trained)</source>
        <translation>アダプターがモデルに与える影響の強さ (1.0 = 学習時のまま)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Chat model</source>
        <translation>チャットモデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>System prompt…</source>
        <translation>システムプロンプト…</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Default model ({name})</source>
        <translation>既定のモデル ({name})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Default model</source>
        <translation>既定のモデル</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>No adapter for this model</source>
        <translation>このモデル用のアダプターはありません</translation>
    </message>
    <message>
        <location line="+31"/>
        <location line="+78"/>
        <source>No system prompt</source>
        <translation>システムプロンプトなし</translation>
    </message>
    <message>
        <location line="-65"/>
        <source>No libraries yet: add a folder on the Library page</source>
        <translation>ライブラリがまだありません。「ライブラリ」ページでフォルダーを追加してください</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>All libraries</source>
        <translation>すべてのライブラリ</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{n} libraries</source>
        <translation>{n} 個のライブラリ</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../../desktop/settings_page.py" line="+162"/>
        <source>Appearance</source>
        <translation>外観</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Language</source>
        <translation>言語</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Theme</source>
        <translation>テーマ</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+2"/>
        <source>System</source>
        <translation>システム設定に従う</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Light</source>
        <translation>ライト</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Dark</source>
        <translation>ダーク</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Some texts change language only after Bunko restarts.</source>
        <translation>一部の表示は Bunko の再起動後に切り替わります。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Files</source>
        <translation>ファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Data folder</source>
        <translation>データフォルダー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Log file</source>
        <translation>ログファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open</source>
        <translation>開く</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open folder</source>
        <translation>フォルダーを開く</translation>
    </message>
</context>
<context>
    <name>SkippedFilesView</name>
    <message>
        <location filename="../../desktop/library/skipped.py" line="+48"/>
        <source>File</source>
        <translation>ファイル</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Skipped and failed files: select a library above.</source>
        <translation>スキップ・失敗したファイル: 上でライブラリを選択してください。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Skipped and failed files in {name}</source>
        <translation>{name} でスキップ・失敗したファイル</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Skipped</source>
        <translation>スキップ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>No skipped or failed files in {name}.</source>
        <translation>{name} にスキップ・失敗したファイルはありません。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Skipped and failed files in {name}: {n}</source>
        <translation>{name} でスキップ・失敗したファイル: {n} 件</translation>
    </message>
</context>
<context>
    <name>SystemPromptDialog</name>
    <message>
        <location filename="../../desktop/chat/chat_options.py" line="-152"/>
        <source>System prompt</source>
        <translation>システムプロンプト</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>For example: Answer in Japanese, briefly, as our HR desk.</source>
        <translation>例: 人事部の窓口として、日本語で簡潔に回答してください。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Instructions the model reads before every question in this chat:</source>
        <translation>このチャットで、モデルが毎回質問の前に読む指示:</translation>
    </message>
</context>
<context>
    <name>Transcript</name>
    <message>
        <location filename="../../desktop/chat/transcript.py" line="+27"/>
        <source>Ask a question about your documents, or just chat.
Enter sends; Shift+Enter starts a new line.</source>
        <translation>文書について質問するか、自由にチャットしてください。
Enter で送信、Shift+Enter で改行します。</translation>
    </message>
</context>
</TS>
